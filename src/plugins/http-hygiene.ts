import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { InvalidRequest } from '../errors.js'

/**
 * Two HTTP/1.1 framing rules the gateway enforces itself, for every route (issue 11).
 *
 * 1. One Host header. RFC 9112 §3.2: a request with more than one Host field line must be
 *    answered 400. Node keeps the first and drops the rest, so a proxy in front that read the
 *    last one would route by a host the gateway never saw (the same-origin CSRF rule reads Host).
 * 2. `connection: close` on any answer sent before the request body was read (a 401 from the
 *    session check, a 413, a 429). Node would otherwise keep reading and discarding the body to
 *    reuse the connection, so a client trickling a body kept its socket long after its refusal.
 */
async function httpHygiene(app: FastifyInstance) {
  app.addHook('onRequest', async function oneHostHeader(request) {
    if (hostHeaderCount(request) > 1) throw new InvalidRequest('the request carries more than one Host header (RFC 9112 §3.2)')
  })
  app.addHook('onSend', async function closeAfterUnreadBody(request, reply) {
    if (hasBody(request) && !request.raw.complete) reply.header('connection', 'close')
  })
}

function hostHeaderCount(request: FastifyRequest): number {
  const raw = request.raw.rawHeaders
  let count = 0
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length === 4 && name.toLowerCase() === 'host') count += 1
  }
  return count
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length']
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

export default fp(httpHygiene, { name: 'http-hygiene' })
