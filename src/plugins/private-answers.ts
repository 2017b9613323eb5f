import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { PRIVATE_CACHE_CONTROL, privateVary } from '../credentials/private-answer.js'

/**
 * Answers the gateway makes itself on Agent Studio routes (its errors, /search-key) are
 * private too (see src/credentials/private-answer.ts). Relayed answers bypass onSend and are
 * marked where they are relayed (src/upstream/forward.ts).
 */
async function privateAnswers(app: FastifyInstance) {
  app.addHook('onSend', async function perUserCaching(_request, reply) {
    reply.header('cache-control', PRIVATE_CACHE_CONTROL)
    reply.header('vary', privateVary(reply.getHeader('vary')))
  })
}

// Span names carry plugin names; a trace must not look as if it held private content.
export default fp(privateAnswers, { name: 'no-shared-cache' })
