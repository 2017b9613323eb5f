import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { statusClass } from '../metrics.js'
import type { Metrics } from '../metrics.js'
import { clientTextForLog } from './escape.js'

/**
 * The request summary: what a request did, gathered along its way and written as one log line
 * (`msg: "request"`) when its connection is done with it. This module alone defines it, starts
 * it and writes it; the steps that learn something write their own field (the session its
 * `userId`, the agent check its `agentId`, …) and the refusal is recorded by the error handler
 * alone (src/error-handler.ts: `rule`, and `err` for a 5xx). Contents, headers and tokens are
 * never logged.
 */

export interface RequestSummary {
  agentId?: string
  userId?: string
  upstreamStatus?: number
  /** Milliseconds from the request's arrival to the upstream's response headers. */
  ttfbMs?: number
  /** Milliseconds from sending the upstream call to its response headers: Agent Studio's own share of ttfbMs. */
  upstreamTtfbMs?: number
  /** Milliseconds from the request's arrival to sending the upstream call: the gateway's own share (metrics; the line's `phasesMs.policy` ends here). */
  upstreamSentAtMs?: number
  /** Issue 26: when each step ended, in milliseconds after the request's arrival (unrounded): the line's `phasesMs`. */
  sessionAtMs?: number
  admittedAtMs?: number
  answeredAtMs?: number
  firstByteAtMs?: number
  /** Body bytes relayed from upstream (gateway-made responses count their own body). */
  bytesSent?: number
  /** Milliseconds the request waited for the next budget window (limits.upstreamBudget.maxWaitMs) before its answer. */
  budgetWaitMs?: number
  /** Who ended a stream early. */
  cutBy?: 'client' | 'upstream' | 'timeout'
  /** The rule that refused the request, or the error code the gateway answered with: written by src/error-handler.ts only. */
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
  cors?: CorsRefusal
  /** Kept for 5xx answers and broken streams only, so ops see the cause without flooding logs with client mistakes. */
  error?: unknown
  /** Completions: whether the gateway let the request use Agent Studio's shared cache (issue 23; metrics only). */
  upstreamCacheAsked?: boolean
  /** Agent Studio's `x-cache` answer (HIT/MISS), lower-cased (metrics only). */
  upstreamCache?: 'hit' | 'miss'
  /** Completions with CONTEXT_TRIM: whether an over-long history went through `context/trim` (metrics only). */
  contextTrimmed?: 'trimmed' | 'failed'
  /** Completions: the validated `x-algolia-referer`, the InstantSearch entry point (metrics only). */
  entryPoint?: string
  /** The OpenTelemetry trace this request belongs to (tracing on only), so logs and traces join. */
  traceId?: string
  /** Issue 24: the tokens Agent Studio reported for this answer, and what the budgets counted. */
  tokens?: { input: number; output: number; reasoning: number; cached: number; charged: number; estimated?: true }
  /** Issue 24: the user's tokens spent this day and month when the request was admitted (not logged: the stream's budget trailer). */
  tokensBefore?: { day: number; month: number }
  /** Issue 24: tool approvals in the request, checked against the gateway's bindings. */
  toolApprovals?: number
}

export interface CorsRefusal {
  readonly rule: 'cors_origin_not_allowed' | 'cors_method_not_allowed' | 'cors_header_not_allowed'
  /** The page's `Origin`, and the header name or method refused, as sent: the summary line cuts and escapes them. */
  readonly origin: string
  readonly header?: string
  readonly method?: string
}

/** Status logged when the browser left before any answer was sent (nginx's convention). */
export const CLIENT_CLOSED_REQUEST = 499

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
  budgetWaitMs: number | undefined
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
  inputTokens: number | undefined
  outputTokens: number | undefined
  reasoningTokens: number | undefined
  cachedTokens: number | undefined
  chargedTokens: number | undefined
  tokensEstimated: true | undefined
  toolApprovals: number | undefined
  phasesMs: PhasesMs | undefined
  err: unknown
}

/**
 * Issue 26: where the wait before the first byte went, in milliseconds (to the microsecond), for
 * the steps this request took: `session` (arrival → session verified), `admission` (→ every limit
 * answered), `policy` (→ upstream call sent: body read and checked, credentials, serialisation),
 * `upstream` (→ Agent Studio's headers), `relay` (→ the first byte written to the browser), and
 * `total` (arrival → the last of them).
 */
export interface PhasesMs {
  session?: number
  admission?: number
  policy?: number
  upstream?: number
  relay?: number
  total: number
}
const PHASE_MARKS = [
  ['session', 'sessionAtMs'],
  ['admission', 'admittedAtMs'],
  ['policy', 'upstreamSentAtMs'],
  ['upstream', 'answeredAtMs'],
  ['relay', 'firstByteAtMs']
] as const

function phasesOf(summary: RequestSummary): PhasesMs | undefined {
  let previous = 0
  let phases: PhasesMs | undefined
  for (const [phase, mark] of PHASE_MARKS) {
    const at = summary[mark]
    if (at === undefined) continue
    ;(phases ??= { total: 0 })[phase] = micro(at - previous)
    previous = at
  }
  if (phases !== undefined) phases.total = micro(previous)
  return phases
}

const micro = (ms: number) => Math.round(ms * 1000) / 1000

const FIELDS: Record<keyof SummaryLine, true> = {
  method: true,
  route: true,
  path: true,
  status: true,
  upstreamStatus: true,
  agentId: true,
  userId: true,
  ttfbMs: true,
  upstreamTtfbMs: true,
  durationMs: true,
  bytesSent: true,
  budgetWaitMs: true,
  cutBy: true,
  rule: true,
  reason: true,
  conversationsHidden: true,
  conversationsDeleted: true,
  degraded: true,
  failedOpen: true,
  cors: true,
  origin: true,
  header: true,
  refusedMethod: true,
  traceId: true,
  inputTokens: true,
  outputTokens: true,
  reasoningTokens: true,
  cachedTokens: true,
  chargedTokens: true,
  tokensEstimated: true,
  toolApprovals: true,
  phasesMs: true,
  err: true
}
export const SUMMARY_LINE_FIELDS: readonly string[] = Object.keys(FIELDS)

declare module 'fastify' {
  interface FastifyRequest {
    summary: RequestSummary
  }
  interface FastifyInstance {
    metrics: Metrics
  }
}

/**
 * One structured line per request, written when its connection is done with it ('close'
 * fires for finished, failed and abandoned responses alike; Fastify's onResponse does not
 * run when the browser leaves mid-stream).
 */
async function requestSummary(app: FastifyInstance, { metrics }: { metrics: Metrics }) {
  app.decorateRequest('summary', null as never)
  app.decorate('metrics', metrics)
  app.addHook('onRequest', function summary(request, reply, done) {
    startSummary(request, reply)
    done()
  })
}

/** Also called for requests the router rejects before any hook runs (see frameworkErrors in app.ts). */
export function startSummary(request: FastifyRequest, reply: FastifyReply): void {
  request.summary = {}
  reply.header('x-request-id', request.id)
  reply.raw.once('close', () => writeSummary(request, reply, request.server.metrics))
}

/**
 * Who ended an answer early. The first to notice is the one recorded: a timeout or a broken
 * upstream ends the response too, and the browser's 'close' that follows is not the cause.
 */
export function recordCut(summary: RequestSummary, by: NonNullable<RequestSummary['cutBy']>): void {
  summary.cutBy ??= by
}

/** The upstream call leaves now, `elapsedMs` after the request arrived: the gateway's own share of the wait ends here. */
export function recordUpstreamSent(summary: RequestSummary, elapsedMs: number): void {
  summary.upstreamSentAtMs = elapsedMs
}

/** Agent Studio's response headers arrived, `elapsedMs` after the request did: its status and both shares of the wait. */
export function recordUpstreamAnswer(summary: RequestSummary, statusCode: number, elapsedMs: number): void {
  summary.upstreamStatus = statusCode
  summary.answeredAtMs = elapsedMs
  summary.ttfbMs = Math.round(elapsedMs)
  summary.upstreamTtfbMs = Math.round(elapsedMs - (summary.upstreamSentAtMs ?? 0))
}

/** A stream broke after its headers went out (nobody can be answered): the line keeps who broke it and why. */
export function recordBrokenStream(summary: RequestSummary, by: 'upstream' | 'timeout', error: Error): void {
  recordCut(summary, by)
  summary.error = error
}

function writeSummary(request: FastifyRequest, reply: FastifyReply, metrics: Metrics) {
  const summary = request.summary
  const res = reply.raw
  const status = res.headersSent ? res.statusCode : CLIENT_CLOSED_REQUEST
  // Fastify passes its headers to writeHead, so the raw response never holds content-length:
  // the reply's own copy does (issue 19: bytesSent was 0 on every non-stream answer).
  const contentLength = reply.getHeader('content-length')
  // Every text below can carry what a client chose (the path, its origin and header names, a
  // user id from the app's session, jose quoting an unauthenticated token in `reason`): each is
  // cut and escaped here, the one place a line is written, so no field can act on a log viewer
  // or grow a line without bound.
  const line: SummaryLine = {
    method: text(request.method),
    route: text(request.routeOptions.url),
    path: text(pathOf(request.url)),
    status,
    upstreamStatus: summary.upstreamStatus,
    agentId: text(summary.agentId),
    userId: text(summary.userId),
    ttfbMs: summary.ttfbMs,
    upstreamTtfbMs: summary.upstreamTtfbMs,
    durationMs: Math.round(reply.elapsedTime),
    bytesSent: summary.bytesSent ?? (contentLength === undefined ? 0 : Number(contentLength)),
    budgetWaitMs: summary.budgetWaitMs,
    cutBy: summary.cutBy,
    rule: summary.rule,
    reason: text(summary.reason),
    conversationsHidden: summary.conversationsHidden,
    conversationsDeleted: summary.conversationsDeleted,
    degraded: summary.degraded,
    failedOpen: summary.failedOpen,
    cors: summary.cors?.rule,
    origin: text(summary.cors?.origin),
    header: text(summary.cors?.header),
    refusedMethod: text(summary.cors?.method),
    traceId: summary.traceId,
    inputTokens: summary.tokens?.input,
    outputTokens: summary.tokens?.output,
    reasoningTokens: summary.tokens?.reasoning,
    cachedTokens: summary.tokens?.cached,
    chargedTokens: summary.tokens?.charged,
    tokensEstimated: summary.tokens?.estimated,
    toolApprovals: summary.toolApprovals,
    phasesMs: phasesOf(summary),
    err: summary.error
  }
  countRequest(metrics, line, summary.upstreamSentAtMs)
  countAgentStudioFeatures(metrics, line, summary)
  if (status >= 500 && status !== CLIENT_CLOSED_REQUEST) request.log.error(line, 'request')
  else request.log.info(line, 'request')
}

/**
 * Metrics derived from the finished line, in one place. Labels are routes as declared, status
 * codes, rule codes and agent ids that passed the allow-list: never a user, a conversation or a path.
 */
function countRequest(metrics: Metrics, line: SummaryLine, upstreamSentAtMs: number | undefined): void {
  const route = line.route ?? 'unmatched'
  metrics.requests.inc({ route, status: line.status })
  if (line.rule !== undefined) metrics.refusals.inc({ rule: line.rule })
  if (line.cutBy !== undefined) metrics.streamsCut.inc({ by: line.cutBy })
  if (line.upstreamStatus !== undefined) {
    metrics.upstreamResponses.inc({ route, status: line.upstreamStatus, status_class: statusClass(line.upstreamStatus) })
  } else if (line.rule === 'upstream_timeout' || line.rule === 'upstream_unavailable') {
    metrics.upstreamFailures.inc({ route, reason: line.rule === 'upstream_timeout' ? 'timeout' : 'unreachable' })
  }
  if (upstreamSentAtMs !== undefined) metrics.beforeUpstream.observe({ route }, upstreamSentAtMs / 1000)
  if (line.upstreamTtfbMs !== undefined && line.agentId !== undefined) metrics.upstreamTtfb.observe({ agent: line.agentId }, line.upstreamTtfbMs / 1000)
}

/**
 * Issue 23: the completion cache per agent (`off`: the gateway sent `cache=false`; else Agent
 * Studio's `x-cache`) and the InstantSearch entry point (`x-algolia-referer`) per completion.
 * Entry points are the documented values, `other` for any other valid token, so the label stays bounded.
 */
function countAgentStudioFeatures(metrics: Metrics, line: SummaryLine, summary: RequestSummary): void {
  // Counted whatever the completion's own fate: the trim call was made.
  if (summary.contextTrimmed !== undefined) metrics.contextTrims.inc({ outcome: summary.contextTrimmed })
  if (line.agentId === undefined || summary.upstreamCacheAsked === undefined || line.upstreamStatus === undefined) return
  const result = !summary.upstreamCacheAsked ? 'off' : summary.upstreamCache
  if (result !== undefined) metrics.completionCache.inc({ agent: line.agentId, result })
  if (summary.entryPoint !== undefined) metrics.entryPoints.inc({ entry_point: summary.entryPoint })
}

function text<T extends string | undefined>(value: T): T {
  return (value === undefined ? undefined : clientTextForLog(value)) as T
}

function pathOf(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

export default fp(requestSummary, { name: 'request-summary' })
