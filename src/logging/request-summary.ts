/** What a request did, gathered along its way and written as one log line when it closes. */
export interface RequestSummary {
  agentId?: string
  userId?: string
  upstreamStatus?: number
  /** Milliseconds from the request's arrival to the upstream's response headers. */
  ttfbMs?: number
  /** Milliseconds from sending the upstream call to its response headers: Agent Studio's own share of ttfbMs. */
  upstreamTtfbMs?: number
  /** Milliseconds from the request's arrival to sending the upstream call: the gateway's own share (metrics only, not logged). */
  upstreamSentAtMs?: number
  /** Body bytes relayed from upstream (gateway-made responses count their own body). */
  bytesSent?: number
  /** Who ended a stream early. */
  cutBy?: 'client' | 'upstream' | 'timeout'
  /** The rule that refused the request, or the error code the gateway answered with. */
  rule?: string
  /** Why a session was refused (e.g. a missing tenant claim, an expired token); never a credential. */
  reason?: string
  /** Conversations in an upstream answer that lie outside the caller's namespace and were left out. */
  conversationsHidden?: number
  /** Erasure (`DELETE /user-data/me`): conversations deleted by this request. */
  conversationsDeleted?: number
  /** Served without a check that could not run (e.g. `redis_unavailable` with the fail-open policy). */
  degraded?: string
  /** The checks skipped because their store could not answer (fail-open). */
  failedOpen?: string[]
  /** A CORS refusal (the browser will hide the answer from the page), with what it refused. */
  cors?: string
  origin?: string
  header?: string
  method?: string
  /** Kept for 5xx answers only, so ops see the cause without flooding logs with client mistakes. */
  error?: unknown
  /** The OpenTelemetry trace this request belongs to (tracing on only), so logs and traces join. */
  traceId?: string
}

/**
 * The fields of the summary line (`msg: "request"`), besides every line's own (level, time,
 * service, reqId, msg). docs/logging.md documents exactly these: the record below
 * must name every key of SummaryLine (the compiler checks it), and a test compares it with the
 * document, so neither can drift.
 */
export interface SummaryLine {
  method: string
  route: string | undefined
  path: string
  status: number
  upstreamStatus: number | undefined
  agentId: string | undefined
  userId: string | undefined
  ttfbMs: number | undefined
  upstreamTtfbMs: number | undefined
  durationMs: number
  bytesSent: number
  cutBy: RequestSummary['cutBy']
  rule: string | undefined
  reason: string | undefined
  conversationsHidden: number | undefined
  conversationsDeleted: number | undefined
  degraded: string | undefined
  failedOpen: string[] | undefined
  cors: string | undefined
  origin: string | undefined
  header: string | undefined
  refusedMethod: string | undefined
  traceId: string | undefined
  err: unknown
}

const FIELDS: Record<keyof SummaryLine, true> = {
  method: true, route: true, path: true, status: true, upstreamStatus: true, agentId: true, userId: true, ttfbMs: true,
  upstreamTtfbMs: true, durationMs: true, bytesSent: true, cutBy: true, rule: true, reason: true, conversationsHidden: true,
  conversationsDeleted: true, degraded: true, failedOpen: true, cors: true, origin: true, header: true, refusedMethod: true, traceId: true, err: true
}
export const SUMMARY_LINE_FIELDS: readonly string[] = Object.keys(FIELDS)

declare module 'fastify' {
  interface FastifyRequest {
    summary: RequestSummary
  }
}
