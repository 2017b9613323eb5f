import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Overloaded } from '../errors.js'

export interface LoadSheddingOptions {
  /** Mean event-loop delay (ms) over the last sample above which new requests get 503. */
  readonly maxEventLoopDelayMs: number
  readonly sampleIntervalMs?: number
}

const RESOLUTION_MS = 10

/**
 * `503 overloaded` while the event loop lags: new requests are refused early, so those in
 * flight finish. This replaces @fastify/under-pressure (issue 11): its sampling timer calls
 * process.memoryUsage(), which opens /proc/self/stat and throws EMFILE from a timer when
 * descriptors run out; the uncaught exception took the whole process down. The event-loop
 * histogram needs no descriptor, and nothing in the timer can throw.
 */
async function loadShedding(app: FastifyInstance, options: LoadSheddingOptions) {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  histogram.enable()
  let delayMs = 0
  const timer = setInterval(() => {
    // The histogram counts its own resolution as delay; an empty one (no sample yet) is NaN.
    const mean = histogram.mean / 1e6 - RESOLUTION_MS
    delayMs = Number.isFinite(mean) ? Math.max(0, mean) : 0
    histogram.reset()
  }, options.sampleIntervalMs ?? 1000)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    histogram.disable()
  })
  app.addHook('onRequest', async function shedWhenOverloaded() {
    if (delayMs > options.maxEventLoopDelayMs) throw new Overloaded({ retryAfterSeconds: 5 })
  })
}

// fastify-plugin: the hook applies to the scope that registers it (the Agent Studio routes), not /healthz.
export default fp(loadShedding, { name: 'load-shedding' })
