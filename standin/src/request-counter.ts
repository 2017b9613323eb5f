import type { FastifyInstance } from 'fastify'

const counters = new WeakMap<FastifyInstance, { received: number }>()

/**
 * Counts every HTTP request the stand-in's server receives, whatever its method, path or answer
 * (HEAD probes, 404s and requests Fastify refuses before routing included). `received` in
 * standin.ts records only the requests its routes handle, so it cannot show that something asked
 * Agent Studio nothing at all; this counter can (issue 13: the `/healthz` test could not fail).
 */
export function countEveryRequest(app: FastifyInstance): void {
  const counter = { received: 0 }
  counters.set(app, counter)
  app.server.on('request', () => {
    counter.received++
  })
}

/** How many HTTP requests the stand-in built on `app` has received so far. */
export function requestsReceived(app: FastifyInstance): number {
  const counter = counters.get(app)
  if (counter === undefined) throw new Error('this Fastify instance is not a stand-in (countEveryRequest was not called)')
  return counter.received
}
