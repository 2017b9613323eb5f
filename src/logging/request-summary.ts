/** What a request did, gathered along its way and written as one log line when it closes. */
export interface RequestSummary {
  agentId?: string
  userId?: string
  upstreamStatus?: number
  /** Milliseconds from the request's arrival to the upstream's response headers. */
  ttfbMs?: number
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
  /** Kept for 5xx answers only, so ops see the cause without flooding logs with client mistakes. */
  error?: unknown
}

declare module 'fastify' {
  interface FastifyRequest {
    summary: RequestSummary
  }
}
