import type { Logger } from 'pino'
import { ScriptedRedis } from './scripts.js'

/** How long the limits wait for Redis's answer before the failure policy applies. */
export const REDIS_ANSWER_TIMEOUT_MS = 500

/**
 * The Redis connection shared by the limiters. Commands must fail fast while Redis is away
 * (no offline queue, one try, a short timeout) so the configured failure policy applies at
 * once instead of requests piling up; ioredis keeps reconnecting in the background, and the
 * gateway is back to shared limits as soon as Redis answers again.
 */
export function createRedisClient(url: string, logger: Logger): ScriptedRedis {
  const redis = new ScriptedRedis(url, {
    enableOfflineQueue: false,
    // Commands issued in the same tick (many concurrent requests) share one write and one read.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    // A backstop only: the limits wait REDIS_ANSWER_TIMEOUT_MS of Redis's own time
    // (answer-timeout.ts), which a busy event loop cannot trip.
    commandTimeout: 5000,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000)
  })
  let healthy: boolean | undefined
  redis.on('ready', () => {
    if (healthy !== true) logger.info('Redis connected: limits and stream caps are shared across replicas')
    healthy = true
  })
  const lost = (error?: Error) => {
    // 'end': we disconnected on purpose (shutdown).
    if (redis.status === 'end') return
    if (healthy !== false) logger.warn({ err: error }, 'Redis unavailable: applying the limits failure policy until it returns')
    healthy = false
  }
  redis.on('error', lost)
  redis.on('close', () => lost())
  return redis
}

/** Start-up: give Redis a moment to connect, so the first requests do not fall to the failure policy. */
export async function waitForRedis(redis: ScriptedRedis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady)
      resolve(false)
    }, timeoutMs)
    const onReady = () => {
      clearTimeout(timer)
      resolve(true)
    }
    redis.once('ready', onReady)
  })
}
