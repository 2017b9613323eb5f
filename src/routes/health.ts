import type { FastifyInstance } from 'fastify'
import type { Dispatcher } from 'undici'
import { NotReady } from '../errors.js'
import type { RedisHealth } from '../redis/index.js'

export interface HealthOptions {
  readonly agentStudioUrl: URL
  readonly dispatcher: Dispatcher
  /** How long one reachability answer is reused, so probes never hammer Agent Studio. */
  readonly probeCacheMs?: number
  /** The policy in force, shown so ops can see every replica converge on a change. */
  readonly policy: () => { readonly hash: string; readonly loadedAt: Date }
  /** True from the moment the public listener stops accepting (SIGTERM): the load balancer must stop sending. */
  readonly draining: () => boolean
  /** True while the public listener holds as many connections as its cap: new ones would be closed on accept. */
  readonly connectionsFull: () => Promise<boolean>
  /** With Redis: its mode, state, slot check and the failure policy in force (issue 21). */
  readonly redis?: () => RedisHealth
}

/**
 * `/healthz`: the process is alive (never depends on anything else, so an orchestrator does
 * not restart a healthy replica because Agent Studio had a bad minute).
 * `/readyz`: configuration loaded (it was, or we would not be running), not shutting down, the
 * public listener below its connection cap (issue 22: readiness turns false so the load
 * balancer stops sending, where liveness would have restarted a healthy pod), and Agent Studio
 * reachable: any HTTP answer counts, only a network failure does not. With Redis, its state is
 * reported (mode, slot check, failure policy); Redis away fails readiness only under
 * onRedisError: closed (under open the failure policy serves, degraded), Redis refusing the limits
 * scripts always does (issue 21: a misconfiguration; the details are in the error log line, not
 * in this public answer).
 */
export default async function healthRoutes(app: FastifyInstance, options: HealthOptions) {
  const cacheMs = options.probeCacheMs ?? 5000
  let last: { at: number; reachable: Promise<boolean> } | undefined

  function upstreamReachable(): Promise<boolean> {
    const now = Date.now()
    if (last === undefined || now - last.at > cacheMs) {
      last = { at: now, reachable: probe(options) }
    }
    return last.reachable
  }

  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (_request, reply) => {
    if (options.draining()) throw new NotReady('shutting down')
    if (await options.connectionsFull()) throw new NotReady('its connection cap is full')
    if (!(await upstreamReachable())) throw new NotReady('Agent Studio is unreachable')
    const redis = options.redis?.()
    if (redis?.problem !== undefined) throw new NotReady('Redis refuses the limits scripts (see the error log)')
    // Under onRedisError: closed every limited request is refused while Redis is away: let the
    // load balancer stop sending (issue 22). Under open the replica still serves, degraded.
    if (redis !== undefined && redis.onRedisError === 'closed' && redis.state === 'unavailable')
      throw new NotReady('Redis is unavailable and limits.onRedisError is closed')
    reply.header('cache-control', 'no-store')
    const { hash, loadedAt } = options.policy()
    return {
      status: 'ready',
      policy: { hash, loadedAt: loadedAt.toISOString() },
      ...(redis === undefined ? {} : { redis: { mode: redis.mode, state: redis.state, slot: redis.slot, onRedisError: redis.onRedisError } })
    }
  })
}

async function probe({ agentStudioUrl, dispatcher }: HealthOptions): Promise<boolean> {
  try {
    const { body } = await dispatcher.request({
      origin: agentStudioUrl.origin,
      path: `${agentStudioUrl.pathname}/`,
      method: 'HEAD',
      signal: AbortSignal.timeout(2000)
    })
    await body.dump()
    return true
  } catch {
    return false
  }
}
