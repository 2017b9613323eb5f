import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

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
    redisFailures: new Counter({ name: 'gateway_redis_failures_total', help: 'Limit checks that could not reach Redis, by the policy applied', labelNames: ['policy'] as const, registers: [registry] }),
    limitFailOpen: new Counter({ name: 'gateway_limit_fail_open_total', help: 'Requests served without a check Redis could not answer (onRedisError: open), by check', labelNames: ['check'] as const, registers: [registry] }),
    // Redis's answer time as this replica sees it; the loop's own delay is gateway_nodejs_eventloop_lag_*.
    redisAnswerSeconds: new Histogram({ name: 'gateway_redis_answer_seconds', help: 'Time from sending a limits script to reading its answer', buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: [registry] }),
    releaseRetries: new Counter({ name: 'gateway_stream_release_retries_total', help: 'Stream lease releases Redis did not confirm, queued again', registers: [registry] })
  }
}

export type Metrics = ReturnType<typeof createMetrics>
