import type { Logger } from 'pino'
import type { AdmissionStore } from '../limits/admission.js'
import type { LiveLimits } from '../limits/live-limits.js'
import type { Metrics } from '../metrics.js'
import { redisAdmission } from './admission-store.js'
import { REDIS_ANSWER_TIMEOUT_MS, createRedisClient, waitForRedis } from './client.js'

export interface RedisOptions {
  readonly url: string
  /** Prefix of every key, so deployments can share a Redis. */
  readonly namespace: string
  readonly live: LiveLimits
  readonly metrics: Metrics
  readonly logger: Logger
}

/** Everything the gateway keeps in Redis, built on one connection. */
export interface GatewayRedis {
  /** The limits and stream caps, shared by every replica. */
  readonly admission: AdmissionStore
  /** Start-up: gives Redis a moment to connect, and says so when it does not. */
  waitUntilReady(): Promise<void>
  /** Shutdown: sends the stream releases still queued, then disconnects. */
  close(): Promise<void>
}

/**
 * The one place Redis is connected. Commands fail fast while it is away (client.ts); what a
 * request then gets, served without its checks or refused, is limits.onRedisError, decided
 * per request by the limiters (src/limits/request-limits.ts), not here.
 */
export function connectRedis(options: RedisOptions): GatewayRedis {
  const { live, metrics, logger } = options
  const redis = createRedisClient(options.url, logger)
  redis.on('ready', () => metrics.redisUp.set(1))
  redis.on('close', () => metrics.redisUp.set(0))
  const admission = redisAdmission({
    redis,
    namespace: options.namespace,
    metrics,
    logger,
    timeoutMs: REDIS_ANSWER_TIMEOUT_MS,
    leaseMs: () => live.current.streams.leaseSeconds * 1000
  })
  return {
    admission,
    async waitUntilReady() {
      if (!(await waitForRedis(redis, 3000))) logger.warn(`Redis not reachable at start; the limits failure policy (${live.current.onRedisError}) applies until it is`)
    },
    async close() {
      await admission.close()
      redis.disconnect()
    }
  }
}
