import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Graceful shutdown for long streams. server.close() stops accepting and closes the
 * keep-alive connections idle at that moment; a connection whose stream finishes later
 * would otherwise stay open until its keep-alive timeout and hold the process past its
 * grace period. So, once closing: every response asks for `connection: close`, and each
 * connection is closed as soon as its response is done.
 */
async function drainOnClose(app: FastifyInstance) {
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onRequest', (_request, reply, done) => {
    reply.raw.once('finish', () => {
      if (closing) setImmediate(() => app.server.closeIdleConnections())
    })
    done()
  })
}

export default fp(drainOnClose, { name: 'drain-on-close' })
