import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { RedisUnavailable, TooManyStreams } from '../errors.js'
import type { Metrics } from '../metrics.js'
import type { LiveLimits } from './live-limits.js'
import { tickBatcher } from './tick-batcher.js'

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
// Acquires the leases of every request handled in one turn of the event loop, in order:
// KEYS come in pairs (user set, global set), ARGV in fours (lease id, user cap, global cap, ms).
const ACQUIRE = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local out = {}
for i = 1, #KEYS / 2 do
  local userKey, globalKey = KEYS[2 * i - 1], KEYS[2 * i]
  local id, userCap, globalCap, leaseMs = ARGV[4 * i - 3], tonumber(ARGV[4 * i - 2]), tonumber(ARGV[4 * i - 1]), tonumber(ARGV[4 * i])
  redis.call('ZREMRANGEBYSCORE', userKey, '-inf', nowMs)
  redis.call('ZREMRANGEBYSCORE', globalKey, '-inf', nowMs)
  local outcome = 0
  if userCap > 0 and redis.call('ZCARD', userKey) >= userCap then
    outcome = 1
  elseif globalCap > 0 and redis.call('ZCARD', globalKey) >= globalCap then
    outcome = 2
  else
    redis.call('ZADD', userKey, nowMs + leaseMs, id)
    redis.call('ZADD', globalKey, nowMs + leaseMs, id)
    redis.call('PEXPIRE', userKey, leaseMs * 2)
    redis.call('PEXPIRE', globalKey, leaseMs * 2)
  end
  out[i] = outcome
end
return out
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

// Releases many leases at once: KEYS in pairs, one lease id per pair.
const RELEASE = `
for i = 1, #KEYS / 2 do
  redis.call('ZREM', KEYS[2 * i - 1], ARGV[i])
  redis.call('ZREM', KEYS[2 * i], ARGV[i])
end
return 0
`

interface LeaseCommands {
  releaseStreams(...args: Array<string | number>): Promise<number>
  acquireStreams(...args: Array<string | number>): Promise<number[]>
  renewStream(userKey: string, globalKey: string, id: string, leaseMs: number): Promise<number>
}

interface LeaseRequest {
  readonly userKey: string
  readonly id: string
  readonly userCap: number
  readonly globalCap: number
  readonly leaseMs: number
}

export function redisStreamSlots(redis: Redis, namespace: string, live: LiveLimits, metrics: Metrics, logger: Logger): StreamSlots {
  // No fixed number of keys for the batched scripts: ioredis takes the count as the first argument.
  redis.defineCommand('acquireStreams', { lua: ACQUIRE })
  redis.defineCommand('renewStream', { numberOfKeys: 2, lua: RENEW })
  redis.defineCommand('releaseStreams', { lua: RELEASE })
  const commands = redis as unknown as Redis & LeaseCommands
  const globalKey = `${namespace}streams:global`
  const acquireBatch = tickBatcher((batch: LeaseRequest[]) =>
    commands.acquireStreams(
      batch.length * 2,
      ...batch.flatMap((lease) => [lease.userKey, globalKey]),
      ...batch.flatMap((lease) => [lease.id, lease.userCap, lease.globalCap, lease.leaseMs])
    ))
  const releaseBatch = tickBatcher(async (batch: Array<{ userKey: string; id: string }>) => {
    await commands.releaseStreams(batch.length * 2, ...batch.flatMap((lease) => [lease.userKey, globalKey]), ...batch.map((lease) => lease.id))
    return batch.map(() => undefined)
  })

  return {
    async acquire(userId, onDegraded) {
      const { perUser, global, leaseSeconds } = live.current.streams
      const leaseMs = leaseSeconds * 1000
      const userKey = `${namespace}streams:user:${userId}`
      const id = randomUUID()
      let outcome: number
      try {
        outcome = await acquireBatch({ userKey, id, userCap: perUser, globalCap: global, leaseMs })
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
          releaseBatch({ userKey, id }).catch((error: unknown) => {
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
