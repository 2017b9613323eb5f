import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import type { LimitsConfig } from '../config/limits.js'
import { RateLimited, RedisUnavailable } from '../errors.js'
import type { Metrics } from '../metrics.js'
import type { LiveLimits } from './live-limits.js'
import { allowListMatcher } from './allow-list.js'
import { batchingRedisStore } from './batching-redis-store.js'

export type LimitHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

export interface RequestLimiters {
  /** Per client IP, for requests without a valid session. */
  readonly ip: LimitHook
  /**
   * Per signed-in user, and per user on this route when a route limit is named. Both are
   * checked at once (one Redis round trip when auto-pipelined); the headers describe the most
   * specific limit.
   */
  forRoute(name?: keyof LimitsConfig['routes']): LimitHook
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
    ...(options.redis === undefined ? {} : { store: batchingRedisStore(options.redis, `${options.namespace}rl:`) as never })
  })

  /** Internal callers on the allow-list skip request limits. */
  const isAllowListed = allowListMatcher(live)

  function limiter(prefix: string, window: () => Window, key: (request: FastifyRequest) => string): Limiter {
    return app.createRateLimit({
      keyGenerator: (request) => `${prefix}:${key(request)}`,
      max: () => window().max,
      timeWindow: () => window().windowSeconds * 1000,
      allowList: (request) => isAllowListed(request.ip)
    })
  }

  interface Checked {
    readonly rule: string
    readonly result: Exclude<Awaited<ReturnType<Limiter>>, { isAllowed: true }>
  }

  /** One limit's verdict; undefined when it is off, allow-listed, or its store failed open. */
  async function check(request: FastifyRequest, rule: string, window: () => Window, limiter: Limiter): Promise<Checked | undefined> {
    if (window().max === 0) return undefined
    let result: Awaited<ReturnType<Limiter>>
    try {
      result = await limiter(request)
    } catch (error) {
      onStoreFailure(request, error)
      return undefined
    }
    return result.isAllowed ? undefined : { rule, result }
  }

  /** Headers of the most specific limit checked (the last); refusal by the first exceeded, most specific first. */
  function enforce(request: FastifyRequest, reply: FastifyReply, checked: Array<Checked | undefined>): void {
    const applied = checked.filter((c): c is Checked => c !== undefined)
    const shown = applied.at(-1)
    if (shown === undefined) return
    reply.header('x-ratelimit-limit', shown.result.max)
    reply.header('x-ratelimit-remaining', shown.result.remaining)
    reply.header('x-ratelimit-reset', shown.result.ttlInSeconds)
    const exceeded = [...applied].reverse().find((c) => c.result.isExceeded)
    if (exceeded === undefined) return
    const { max, ttlInSeconds } = exceeded.result
    request.summary.rule = `rate_limited:${exceeded.rule}`
    throw Object.assign(new RateLimited(String(ttlInSeconds)), {
      headers: { 'retry-after': ttlInSeconds, 'x-ratelimit-limit': max, 'x-ratelimit-remaining': 0, 'x-ratelimit-reset': ttlInSeconds }
    })
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
  const ipLimiter = limiter('ip', ipWindow, (request) => request.ip)
  const userLimiter = limiter('user', userWindow, byUser)
  const routeHooks = new Map<string, LimitHook>()

  return {
    ip: async (request, reply) => enforce(request, reply, [await check(request, 'ip', ipWindow, ipLimiter)]),
    forRoute(name) {
      const cacheKey = name ?? ''
      let routeHook = routeHooks.get(cacheKey)
      if (routeHook === undefined) {
        const routeWindow = name === undefined ? undefined : () => live.current.routes[name]
        const routeLimiter = name === undefined ? undefined : limiter(`route:${name}`, routeWindow!, byUser)
        routeHook = async (request, reply) => {
          const checks = [check(request, 'user', userWindow, userLimiter)]
          if (routeLimiter !== undefined) checks.push(check(request, `route:${name}`, routeWindow!, routeLimiter))
          enforce(request, reply, await Promise.all(checks))
        }
        routeHooks.set(cacheKey, routeHook)
      }
      return routeHook
    }
  }
}
