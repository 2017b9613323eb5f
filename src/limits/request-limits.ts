import proxyAddr from '@fastify/proxy-addr'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import type { LimitsConfig } from '../config/limits.js'
import { RateLimited, RedisUnavailable } from '../errors.js'
import type { Metrics } from '../metrics.js'
import type { LiveLimits } from './live-limits.js'

export type LimitHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

export interface RequestLimiters {
  /** Per client IP, before authentication. */
  readonly ip: LimitHook
  /** Per signed-in user, on every authenticated route. */
  readonly user: LimitHook
  /** Per signed-in user, for one route (tighter than the user limit). */
  route(name: keyof LimitsConfig['routes']): LimitHook
}

export interface RequestLimitOptions {
  readonly live: LiveLimits
  readonly redis: Redis | undefined
  readonly namespace: string
  readonly metrics: Metrics
}

type Window = { max: number; windowSeconds: number }
type Limiter = ReturnType<FastifyInstance['createRateLimit']>

/**
 * Fixed-window request limits from @fastify/rate-limit (its Redis store increments and
 * expires atomically, shared by every replica; without Redis, in memory). Limits are read from
 * LiveLimits on every request, so a reload applies at once and counters are never reset.
 * We call its limiters directly (createRateLimit) so that several limits can apply to one
 * request, refusals use our error shape, and a Redis failure follows our policy.
 */
export async function registerRequestLimiters(app: FastifyInstance, options: RequestLimitOptions): Promise<RequestLimiters> {
  const { live, metrics } = options
  await app.register(rateLimit, {
    global: false,
    skipOnError: false,
    ...(options.redis === undefined ? {} : { redis: options.redis, nameSpace: `${options.namespace}rl:` })
  })

  let allowListSource: readonly string[] | undefined
  let allowed: (address: string) => boolean = () => false
  /** Internal callers on the allow-list skip request limits (compiled once per reload). */
  function isAllowListed(ip: string): boolean {
    const list = live.current.allowList
    if (list !== allowListSource) {
      allowListSource = list
      const trust = list.length === 0 ? undefined : proxyAddr.compile([...list])
      allowed = trust === undefined ? () => false : (address) => trust(address, 0)
    }
    return allowed(ip)
  }

  function limiter(prefix: string, window: () => Window, key: (request: FastifyRequest) => string): Limiter {
    return app.createRateLimit({
      keyGenerator: (request) => `${prefix}:${key(request)}`,
      max: () => window().max,
      timeWindow: () => window().windowSeconds * 1000,
      allowList: (request) => isAllowListed(request.ip)
    })
  }

  function hook(rule: string, window: () => Window, check: Limiter): LimitHook {
    return async function applyLimit(request, reply) {
      if (window().max === 0) return
      let result: Awaited<ReturnType<Limiter>>
      try {
        result = await check(request)
      } catch (error) {
        return onStoreFailure(request, error)
      }
      if (result.isAllowed) return
      reply.header('x-ratelimit-limit', result.max)
      reply.header('x-ratelimit-remaining', result.remaining)
      reply.header('x-ratelimit-reset', result.ttlInSeconds)
      if (!result.isExceeded) return
      request.summary.rule = `rate_limited:${rule}`
      throw Object.assign(new RateLimited(String(result.ttlInSeconds)), { headers: { 'retry-after': result.ttlInSeconds, 'x-ratelimit-remaining': 0 } })
    }
  }

  function onStoreFailure(request: FastifyRequest, error: unknown): void {
    const policy = live.current.onRedisError
    metrics.redisFailures.inc({ policy })
    if (policy === 'open') {
      request.summary.degraded = 'redis_unavailable'
      return
    }
    request.summary.rule = 'redis_unavailable'
    throw Object.assign(new RedisUnavailable(), { cause: error, headers: { 'retry-after': 5 } })
  }

  const ipWindow = () => live.current.ip
  const userWindow = () => live.current.user
  const byUser = (request: FastifyRequest) => request.user.id
  const routes = new Map<string, LimitHook>()
  return {
    ip: hook('ip', ipWindow, limiter('ip', ipWindow, (request) => request.ip)),
    user: hook('user', userWindow, limiter('user', userWindow, byUser)),
    route(name) {
      let routeHook = routes.get(name)
      if (routeHook === undefined) {
        const window = () => live.current.routes[name]
        routeHook = hook(`route:${name}`, window, limiter(`route:${name}`, window, byUser))
        routes.set(name, routeHook)
      }
      return routeHook
    }
  }
}
