import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { CLIENT_CLOSED_REQUEST } from '../upstream/forward.js'
import type { SummaryLine } from '../logging/request-summary.js'
import { statusClass } from '../metrics.js'
import type { Metrics } from '../metrics.js'
import { escapeForLog } from '../logging/escape.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/**
 * One structured line per request, written when its connection is done with it ('close'
 * fires for finished, failed and abandoned responses alike; Fastify's onResponse does not
 * run when the browser leaves mid-stream). Contents, headers and tokens are never logged.
 */
async function requestSummary(app: FastifyInstance, { metrics }: { metrics: Metrics }) {
  app.decorateRequest('summary', null as never)
  app.decorate('metrics', metrics)
  app.addHook('onRequest', (request, reply, done) => {
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

function writeSummary(request: FastifyRequest, reply: FastifyReply, metrics: Metrics) {
  const summary = request.summary
  const res = reply.raw
  const status = res.headersSent ? res.statusCode : CLIENT_CLOSED_REQUEST
  const contentLength = res.getHeader('content-length')
  const line: SummaryLine = {
    method: request.method,
    route: request.routeOptions.url,
    path: escapeForLog(pathOf(request.url)),
    status,
    upstreamStatus: summary.upstreamStatus,
    agentId: summary.agentId,
    // Ids come from the app's session; whatever they contain must not act on a log viewer.
    userId: summary.userId === undefined ? undefined : escapeForLog(summary.userId),
    ttfbMs: summary.ttfbMs,
    upstreamTtfbMs: summary.upstreamTtfbMs,
    durationMs: Math.round(reply.elapsedTime),
    bytesSent: summary.bytesSent ?? (contentLength === undefined ? 0 : Number(contentLength)),
    cutBy: summary.cutBy,
    rule: summary.rule,
    reason: summary.reason,
    conversationsHidden: summary.conversationsHidden,
    conversationsDeleted: summary.conversationsDeleted,
    degraded: summary.degraded,
    failedOpen: summary.failedOpen,
    cors: summary.cors,
    origin: summary.origin,
    header: summary.header,
    refusedMethod: summary.method,
    traceId: summary.traceId,
    err: summary.error
  }
  countRequest(metrics, line, summary.upstreamSentAtMs)
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

function pathOf(url: string): string {
  const query = url.indexOf('?')
  const path = query === -1 ? url : url.slice(0, query)
  return path.length > 300 ? `${path.slice(0, 300)}…` : path
}

export default fp(requestSummary, { name: 'request-summary' })
