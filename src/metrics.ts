import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'

/** Counts for monitoring, in a registry of the app's own (tests build many apps in one process). */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'gateway_' })
  return {
    registry,
    requests: new Counter({ name: 'gateway_requests_total', help: 'Requests by route and status', labelNames: ['route', 'status'] as const, registers: [registry] }),
    refusals: new Counter({ name: 'gateway_refusals_total', help: 'Requests refused, by the rule that fired', labelNames: ['rule'] as const, registers: [registry] }),
    streamsCut: new Counter({ name: 'gateway_streams_cut_total', help: 'Streams ended early, by who cut them', labelNames: ['by'] as const, registers: [registry] }),
    openStreams: new Gauge({ name: 'gateway_open_streams', help: 'Completion streams open on this replica', registers: [registry] }),
    upstreamAuthFailures: new Counter({ name: 'gateway_upstream_auth_failures_total', help: 'Agent Studio refused the gateway\'s Algolia credentials (401/403), by upstream status', labelNames: ['status'] as const, registers: [registry] }),
    upstreamRateLimited: new Counter({ name: 'gateway_upstream_rate_limited_total', help: 'Agent Studio answered 429 (the application\'s budget)', registers: [registry] }),
    redisFailures: new Counter({ name: 'gateway_redis_failures_total', help: 'Limit checks that could not reach Redis, by the policy applied', labelNames: ['policy'] as const, registers: [registry] })
  }
}

export type Metrics = ReturnType<typeof createMetrics>
