import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Graceful shutdown for long streams. server.close() stops accepting and closes the
 * keep-alive connections idle at that moment; a connection whose stream finishes later
 * would otherwise stay open until its keep-alive timeout and hold the process past its
 * grace period. So, while closing, idle connections are closed every 100 ms (nothing is
 * added to the per-request path for this).
 */
async function drainOnClose(app: FastifyInstance) {
  let timer: NodeJS.Timeout | undefined
  app.addHook('preClose', async () => {
    timer = setInterval(() => app.server.closeIdleConnections(), 100)
    timer.unref()
  })
  app.addHook('onClose', async () => {
    clearInterval(timer)
  })
}

export default fp(drainOnClose, { name: 'drain-on-close' })
