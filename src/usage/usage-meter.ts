import type { FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'
import type { TokenStore } from './token-store.js'
import type { TokenUsage } from './usage-reader.js'

export interface UsageMeterOptions {
  readonly store: TokenStore
  readonly metrics: Metrics
  readonly logger: Logger
  readonly tenantOf: (userId: string) => string | undefined
  readonly now?: () => number
}

/** Told the usage of one answer (src/upstream/forward.ts `onUsage`). */
export type UsageSink = (usage: TokenUsage | undefined) => void

/** The entry point label of an answer sent without `x-algolia-referer` (a chat page, a direct client). */
export const DIRECT_ENTRY_POINT = 'chat'

/**
 * Issue 24: where one answer's tokens go, once, when it is over: its log line (the request
 * summary), the Prometheus counters (agent and entry point: bounded labels, never the user), the
 * request's span (OpenTelemetry GenAI semantic conventions, when tracing is on), and the user's
 * (and tenant's) usage in the store the token budgets read. The store write is separate from
 * admission and not awaited: the answer is already on its way; a failed write is logged and
 * counted (the budget then under-counts, never refuses wrongly).
 */
export function usageMeter({ store, metrics, logger, tenantOf, now = Date.now }: UsageMeterOptions) {
  let failing = false
  /** `upstreamBodyBytes`: the size of what was sent upstream, for the estimate of a cut answer. */
  return function forRequest(request: FastifyRequest, agentId: string, upstreamBodyBytes: number): UsageSink {
    return (reported) => {
      const entryPoint = request.summary.entryPoint ?? DIRECT_ENTRY_POINT
      let usage = reported
      if (usage === undefined) {
        metrics.usageUnreported.inc({ agent: agentId })
        // An answer cut before Agent Studio reported its usage was still billed. Charged an
        // estimate (about 4 bytes a token, of what was sent and of what was relayed), so that
        // leaving every stream just before its end cannot dodge the budgets.
        if (request.summary.cutBy === undefined) return
        usage = estimate(upstreamBodyBytes, request.summary.bytesSent ?? 0)
        metrics.tokensEstimated.inc({ agent: agentId }, usage.total)
      }
      const charged = usage.cacheHit ? 0 : usage.total
      request.summary.tokens = {
        input: usage.input,
        output: usage.output,
        reasoning: usage.reasoning,
        cached: usage.cached,
        charged,
        ...(reported === undefined ? { estimated: true } : {})
      }
      if (reported !== undefined) {
        for (const kind of ['input', 'output', 'reasoning', 'cached'] as const) {
          if (reported[kind] > 0) metrics.tokens.inc({ agent: agentId, entry_point: entryPoint, kind }, reported[kind])
        }
      }
      if (charged > 0) metrics.tokensCharged.inc({ agent: agentId }, charged)
      if (reported !== undefined) setSpanAttributes(request, agentId, reported)
      const userId = request.user.id
      const tenant = tenantOf(userId)
      store.record({ userId, ...(tenant === undefined ? {} : { tenant }), agentId, usage, charged, nowMs: now() }).then(
        () => {
          failing = false
        },
        (error: unknown) => {
          metrics.usageRecordFailures.inc()
          // Once per outage, not once per answer (the counter has them all).
          if (!failing) logger.warn({ err: error, reqId: request.id }, "could not record an answer's tokens; the token budgets under-count it")
          failing = true
        }
      )
    }
  }
}

function estimate(sentBytes: number, relayedBytes: number): TokenUsage {
  const input = Math.ceil(sentBytes / 4)
  const output = Math.ceil(relayedBytes / 4)
  return { input, output, reasoning: 0, cached: 0, total: input + output, cacheHit: false }
}

/**
 * The GenAI semantic conventions' attributes (https://opentelemetry.io/docs/specs/semconv/gen-ai/),
 * on the request's span: the operation and agent, and the usage counts. Listed in
 * src/tracing/span-allow-list.ts; nothing of the conversation, the user or the content.
 */
function setSpanAttributes(request: FastifyRequest, agentId: string, usage: TokenUsage): void {
  const otel = (
    request as { opentelemetry?: () => { span?: { isRecording(): boolean; setAttributes(attributes: Record<string, number | string>): void } | null } }
  ).opentelemetry
  if (typeof otel !== 'function') return
  const span = otel.call(request).span
  if (span === undefined || span === null || !span.isRecording()) return
  span.setAttributes({
    'gen_ai.operation.name': 'chat',
    'gen_ai.agent.id': agentId,
    'gen_ai.usage.input_tokens': usage.input,
    'gen_ai.usage.output_tokens': usage.output,
    'gen_ai.usage.cache_read.input_tokens': usage.cached,
    'gen_ai.usage.reasoning.output_tokens': usage.reasoning
  })
}
