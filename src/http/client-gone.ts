import type { FastifyReply, FastifyRequest } from 'fastify'
import { ClientGone } from '../errors.js'
import { recordCut } from '../logging/request-summary.js'

const gone = new WeakSet<FastifyRequest>()

/**
 * Notes when the browser leaves before its answer is complete. Registered before the first
 * await of a request, so no departure goes unseen; every await before the upstream call is
 * followed by `throwIfClientGone`, so no further work (and no LLM call) is done for nobody
 * (issue 11 item 6). Ahead of the summary line's listener, so the line records the cut.
 */
export function watchClient(request: FastifyRequest, reply: FastifyReply): void {
  const res = reply.raw
  res.prependOnceListener('close', () => {
    if (res.writableFinished) return
    gone.add(request)
    recordCut(request.summary, 'client')
  })
}

export function isClientGone(request: FastifyRequest): boolean {
  return gone.has(request)
}

export function throwIfClientGone(request: FastifyRequest): void {
  if (gone.has(request)) throw new ClientGone()
}
