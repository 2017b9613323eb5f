import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { CLIENT_CLOSED_REQUEST } from '../upstream/forward.js'
import type { Metrics } from '../metrics.js'

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
  const line = {
    method: request.method,
    route: request.routeOptions.url,
    path: pathOf(request.url),
    status,
    upstreamStatus: summary.upstreamStatus,
    agentId: summary.agentId,
    userId: summary.userId,
    ttfbMs: summary.ttfbMs,
    durationMs: Math.round(reply.elapsedTime),
    bytesSent: summary.bytesSent ?? (contentLength === undefined ? 0 : Number(contentLength)),
    cutBy: summary.cutBy,
    rule: summary.rule,
    reason: summary.reason,
    conversationsHidden: summary.conversationsHidden,
    conversationsDeleted: summary.conversationsDeleted,
    degraded: summary.degraded,
    failedOpen: summary.failedOpen,
    err: summary.error
  }
  metrics.requests.inc({ route: line.route ?? 'unmatched', status })
  if (summary.rule !== undefined) metrics.refusals.inc({ rule: summary.rule })
  if (summary.cutBy !== undefined) metrics.streamsCut.inc({ by: summary.cutBy })
  if (status >= 500 && status !== CLIENT_CLOSED_REQUEST) request.log.error(line, 'request')
  else request.log.info(line, 'request')
}

function pathOf(url: string): string {
  const query = url.indexOf('?')
  const path = query === -1 ? url : url.slice(0, query)
  return path.length > 300 ? `${path.slice(0, 300)}…` : path
}

export default fp(requestSummary, { name: 'request-summary' })
