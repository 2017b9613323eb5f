import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** What the metrics read from the limits in force, at scrape time (a reload shows at once). */
export interface MetricsSources {
  readonly streamCaps?: () => { readonly perUser: number; readonly global: number }
  /** The policy in force: its content hash and when it was loaded (fleet convergence). */
  readonly policy?: () => { readonly hash: string; readonly loadedAt: Date }
}

// Seconds. Agent Studio's first byte is an LLM starting to answer: tens of ms to tens of seconds.
const TTFB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 30, 60]
// The gateway's own work before the upstream call (session, policy, limits, Redis): sub-ms to ms.
const GATEWAY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

/**
 * Counts for monitoring, in a registry of the app's own (tests build many apps in one process).
 * Every label has a bounded set of values (routes as declared, status codes, rule codes, allowed
 * agent ids): never a user id, a conversation id or a raw path. docs/metrics.md is the catalogue,
 * and test/docs/metrics-catalogue.test.ts keeps both true.
 */
export function createMetrics(sources: MetricsSources = {}) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'gateway_' })
  const registers = [registry]
  const streamCaps = sources.streamCaps
  const policy = sources.policy
  return {
    registry,
    requests: new Counter({ name: 'gateway_requests_total', help: 'Requests by route and status', labelNames: ['route', 'status'] as const, registers }),
    refusals: new Counter({ name: 'gateway_refusals_total', help: 'Requests refused, by the rule that fired', labelNames: ['rule'] as const, registers }),
    connectionsRefused: new Counter({
      name: 'gateway_connections_refused_total',
      help: 'Client connections closed on accept, by reason (per_address: the address already held its share of the cap)',
      labelNames: ['reason'] as const,
      registers
    }),
    streamsCut: new Counter({ name: 'gateway_streams_cut_total', help: 'Streams ended early, by who cut them', labelNames: ['by'] as const, registers }),
    openStreams: new Gauge({ name: 'gateway_open_streams', help: 'Completion streams open on this replica (stream slots this replica holds)', registers }),
    streamSlotsCap: new Gauge({
      name: 'gateway_stream_slots_cap',
      help: 'Stream caps in force (scope="global": the whole deployment; "per_user"); 0 means no cap',
      labelNames: ['scope'] as const,
      registers,
      collect() {
        if (streamCaps === undefined) return
        const caps = streamCaps()
        this.set({ scope: 'global' }, caps.global)
        this.set({ scope: 'per_user' }, caps.perUser)
      }
    }),
    upstreamAuthFailures: new Counter({
      name: 'gateway_upstream_auth_failures_total',
      help: "Agent Studio refused the gateway's Algolia credentials (401/403), by upstream status",
      labelNames: ['status'] as const,
      registers
    }),
    upstreamRateLimited: new Counter({ name: 'gateway_upstream_rate_limited_total', help: "Agent Studio answered 429 (the application's budget)", registers }),
    redisFailures: new Counter({
      name: 'gateway_redis_failures_total',
      help: 'Limit checks that could not reach Redis, by the policy applied',
      labelNames: ['policy'] as const,
      registers
    }),
    redisUp: new Gauge({ name: 'gateway_redis_up', help: '1 while the Redis connection is ready, 0 while it is not (absent without REDIS_URL)', registers }),
    redisScriptErrors: new Counter({
      name: 'gateway_redis_script_errors_total',
      help: 'Limits scripts Redis answered with an error that is not a connection failure (CROSSSLOT, WRONGTYPE, NOPERM, NOSCRIPT, …), by error code',
      labelNames: ['code'] as const,
      registers
    }),
    limitFailOpen: new Counter({
      name: 'gateway_limit_fail_open_total',
      help: 'Requests served without a check Redis could not answer (onRedisError: open), by check',
      labelNames: ['check'] as const,
      registers
    }),
    // Redis's answer time as this replica sees it; the loop's own delay is gateway_nodejs_eventloop_lag_*.
    redisAnswerSeconds: new Histogram({
      name: 'gateway_redis_answer_seconds',
      help: 'Time from sending a limits script to reading its answer',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers
    }),
    releaseRetries: new Counter({ name: 'gateway_stream_release_retries_total', help: 'Stream lease releases Redis did not confirm, queued again', registers }),
    upstreamResponses: new Counter({
      name: 'gateway_upstream_responses_total',
      help: 'Answers from Agent Studio, by route, status and status class (2xx..5xx)',
      labelNames: ['route', 'status', 'status_class'] as const,
      registers
    }),
    upstreamFailures: new Counter({
      name: 'gateway_upstream_failures_total',
      help: 'Upstream calls that got no answer, by route and reason (timeout, unreachable)',
      labelNames: ['route', 'reason'] as const,
      registers
    }),
    upstreamTtfb: new Histogram({
      name: 'gateway_upstream_ttfb_seconds',
      help: 'Agent Studio time to first byte (request sent to response headers), by agent',
      labelNames: ['agent'] as const,
      buckets: TTFB_BUCKETS,
      registers
    }),
    beforeUpstream: new Histogram({
      name: 'gateway_before_upstream_seconds',
      help: "The gateway's own time before the upstream call (session, policy, limits, token), by route",
      labelNames: ['route'] as const,
      buckets: GATEWAY_BUCKETS,
      registers
    }),
    upstreamBudgetRemaining: new Gauge({
      name: 'gateway_upstream_budget_remaining',
      help: 'Upstream calls left in the current budget window (deployment-wide); 0 with gateway_upstream_budget_max 0 when no budget is set',
      registers
    }),
    upstreamBudgetMax: new Gauge({ name: 'gateway_upstream_budget_max', help: 'Upstream calls allowed per budget window (0: no budget)', registers }),
    upstreamBudgetSpent: new Counter({
      name: 'gateway_upstream_budget_spent_total',
      help: 'Upstream calls admitted against the budget, by route group (limits.routes) and budget class (chat, history, background)',
      labelNames: ['group', 'class'] as const,
      registers
    }),
    upstreamBudgetWait: new Histogram({
      name: 'gateway_upstream_budget_wait_seconds',
      help: 'How long requests that found the budget window full waited for the next one (admitted or not)',
      labelNames: ['class'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers
    }),
    policyInfo: new Gauge({
      name: 'gateway_policy_info',
      help: 'Always 1, labelled with the hash of the policy file in force: replicas with different hashes run different policies',
      labelNames: ['hash'] as const,
      registers,
      collect() {
        if (policy === undefined) return
        this.reset()
        this.set({ hash: policy().hash }, 1)
      }
    }),
    policyLoadedAt: new Gauge({
      name: 'gateway_policy_loaded_timestamp_seconds',
      help: 'When the policy in force was loaded (start or reload), in seconds since the epoch',
      registers,
      collect() {
        if (policy !== undefined) this.set(policy().loadedAt.getTime() / 1000)
      }
    }),
    reloads: new Counter({
      name: 'gateway_reloads_total',
      help: 'SIGHUP reloads, by what was reloaded (limits, secrets) and outcome (applied, rejected)',
      labelNames: ['what', 'outcome'] as const,
      registers
    }),
    completionCache: new Counter({
      name: 'gateway_completion_cache_total',
      help: 'Completions answered by Agent Studio, by agent and cache result (hit, miss: its x-cache; off: the gateway sent cache=false, the answer may be personal)',
      labelNames: ['agent', 'result'] as const,
      registers
    }),
    entryPoints: new Counter({
      name: 'gateway_entry_points_total',
      help: 'Completions sent with an x-algolia-referer (InstantSearch entry points: ai-mode, prompt-suggestions-widget, prompt-suggestions-autocomplete, page-suggestions, compare; other)',
      labelNames: ['entry_point'] as const,
      registers
    }),
    contextTrims: new Counter({
      name: 'gateway_context_trims_total',
      help: "Over-long completions sent to Agent Studio's context/trim first (CONTEXT_TRIM), by outcome (trimmed, failed: the usual refusal followed)",
      labelNames: ['outcome'] as const,
      registers
    }),
    // Issue 24: tokens as Agent Studio reported them. Agent ids come from the allow-list, entry
    // points are the documented values (or `other`, `chat`), kinds four: bounded. Never a user.
    tokens: new Counter({
      name: 'gateway_tokens_total',
      help: 'Tokens Agent Studio reported for completions, by agent, entry point (x-algolia-referer; chat without one) and kind (input, output, reasoning, cached: input served from the provider cache)',
      labelNames: ['agent', 'entry_point', 'kind'] as const,
      registers
    }),
    tokensCharged: new Counter({
      name: 'gateway_tokens_charged_total',
      help: "Tokens counted against the token budgets (answers from Agent Studio's cache count none), by agent",
      labelNames: ['agent'] as const,
      registers
    }),
    usageUnreported: new Counter({
      name: 'gateway_usage_unreported_total',
      help: 'Completions that ended (or were cut) without any usage the gateway could read, by agent',
      labelNames: ['agent'] as const,
      registers
    }),
    tokensEstimated: new Counter({
      name: 'gateway_tokens_estimated_total',
      help: 'Tokens charged by estimate for answers cut before Agent Studio reported their usage, by agent',
      labelNames: ['agent'] as const,
      registers
    }),
    usageRecordFailures: new Counter({
      name: 'gateway_usage_record_failures_total',
      help: 'Answers whose tokens could not be written to the usage store (the budgets under-count them)',
      registers
    }),
    toolApprovals: new Counter({
      name: 'gateway_tool_approvals_total',
      help: 'Tool approvals a browser sent, by agent and outcome (accepted, not_approvable, unbound, replayed, expired, mismatch, request_refused)',
      labelNames: ['agent', 'outcome'] as const,
      registers
    }),
    auditEvents: new Counter({
      name: 'gateway_audit_events_total',
      help: 'Audit events written, by action and outcome',
      labelNames: ['action', 'outcome'] as const,
      registers
    }),
    auditWriteFailures: new Counter({
      name: 'gateway_audit_write_failures_total',
      help: "Errors of the audit trail's destination (a full disk, a closed pipe): events may be lost; the gateway keeps serving",
      registers
    }),
    keyAuditProblems: new Gauge({
      name: 'gateway_key_audit_problems',
      help: 'Findings of the start-up key audit this process started with (warnings and unverifiable keys; 0: clean)',
      registers
    })
  }
}

export type Metrics = ReturnType<typeof createMetrics>

/** "2xx".."5xx" for an HTTP status; anything outside 100..599 is "other". */
export function statusClass(status: number): string {
  return status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : 'other'
}
