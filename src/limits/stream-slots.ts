import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { RedisUnavailable, TooManyStreams } from '../errors.js'
import type { Metrics } from '../metrics.js'
import type { LiveLimits } from './live-limits.js'

/** One open completion stream's claim on the caps; released exactly once, whatever ends the stream. */
export interface StreamLease {
  release(): void
}

export interface StreamSlots {
  /** Takes a slot for the user or throws TooManyStreams (429) / RedisUnavailable (503, fail-closed). */
  acquire(userId: string, onDegraded: (reason: string) => void): Promise<StreamLease>
}

const NO_LEASE: StreamLease = { release: () => undefined }

/** Caps for one replica, when no Redis is configured. */
export function memoryStreamSlots(live: LiveLimits, metrics: Metrics): StreamSlots {
  const perUser = new Map<string, number>()
  let open = 0
  return {
    async acquire(userId) {
      const { perUser: userCap, global: globalCap } = live.current.streams
      const mine = perUser.get(userId) ?? 0
      if (userCap > 0 && mine >= userCap) throw tooMany('user', userCap)
      if (globalCap > 0 && open >= globalCap) throw tooMany('global', globalCap)
      perUser.set(userId, mine + 1)
      open++
      metrics.openStreams.inc()
      let released = false
      return {
        release() {
          if (released) return
          released = true
          open--
          metrics.openStreams.dec()
          const left = (perUser.get(userId) ?? 1) - 1
          if (left === 0) perUser.delete(userId)
          else perUser.set(userId, left)
        }
      }
    }
  }
}

/**
 * Caps shared by every replica: each open stream is a lease (a member of a sorted set scored
 * by its expiry) in a per-user and a global set. A replica renews its leases while their
 * streams live; if it dies, its leases simply expire (`streams.leaseSeconds`), so no slot is
 * lost for good. Expiry uses Redis's clock, so replicas' clocks need not agree.
 */
const ACQUIRE = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local leaseMs = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs)
local userCap = tonumber(ARGV[2])
local globalCap = tonumber(ARGV[3])
if userCap > 0 and redis.call('ZCARD', KEYS[1]) >= userCap then return 1 end
if globalCap > 0 and redis.call('ZCARD', KEYS[2]) >= globalCap then return 2 end
redis.call('ZADD', KEYS[1], nowMs + leaseMs, ARGV[1])
redis.call('ZADD', KEYS[2], nowMs + leaseMs, ARGV[1])
redis.call('PEXPIRE', KEYS[1], leaseMs * 2)
redis.call('PEXPIRE', KEYS[2], leaseMs * 2)
return 0
`
const RENEW = `
local now = redis.call('TIME')
local expiry = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[1])
redis.call('ZADD', KEYS[2], 'XX', expiry, ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]) * 2)
return 0
`

const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 0
`

interface LeaseCommands {
  releaseStream(userKey: string, globalKey: string, id: string): Promise<number>
  acquireStream(userKey: string, globalKey: string, id: string, userCap: number, globalCap: number, leaseMs: number): Promise<number>
  renewStream(userKey: string, globalKey: string, id: string, leaseMs: number): Promise<number>
}

export function redisStreamSlots(redis: Redis, namespace: string, live: LiveLimits, metrics: Metrics, logger: Logger): StreamSlots {
  redis.defineCommand('acquireStream', { numberOfKeys: 2, lua: ACQUIRE })
  redis.defineCommand('renewStream', { numberOfKeys: 2, lua: RENEW })
  redis.defineCommand('releaseStream', { numberOfKeys: 2, lua: RELEASE })
  const commands = redis as unknown as Redis & LeaseCommands
  const globalKey = `${namespace}streams:global`

  return {
    async acquire(userId, onDegraded) {
      const { perUser, global, leaseSeconds } = live.current.streams
      const leaseMs = leaseSeconds * 1000
      const userKey = `${namespace}streams:user:${userId}`
      const id = randomUUID()
      let outcome: number
      try {
        outcome = await commands.acquireStream(userKey, globalKey, id, perUser, global, leaseMs)
      } catch (error) {
        metrics.redisFailures.inc({ policy: live.current.onRedisError })
        if (live.current.onRedisError === 'closed') throw Object.assign(new RedisUnavailable(), { cause: error, headers: { 'retry-after': 5 } })
        onDegraded('redis_unavailable')
        return NO_LEASE
      }
      if (outcome === 1) throw tooMany('user', perUser)
      if (outcome === 2) throw tooMany('global', global)
      metrics.openStreams.inc()
      // Renew well before expiry; a missed renewal (Redis blip) is retried on the next tick.
      const renewal = setInterval(() => {
        commands.renewStream(userKey, globalKey, id, leaseMs).catch((error: unknown) => logger.warn({ err: error }, 'stream lease renewal failed'))
      }, Math.max(1000, Math.floor(leaseMs / 3)))
      renewal.unref()
      let released = false
      return {
        release() {
          if (released) return
          released = true
          clearInterval(renewal)
          metrics.openStreams.dec()
          commands.releaseStream(userKey, globalKey, id).catch((error: unknown) => {
            logger.warn({ err: error }, 'stream lease release failed; it will expire by itself')
          })
        }
      }
    }
  }
}

function tooMany(scope: 'user' | 'global', cap: number) {
  const detail = scope === 'user' ? ` for you (at most ${cap})` : ' on this service'
  return Object.assign(new TooManyStreams(detail), { headers: { 'retry-after': 5 }, scope })
}
