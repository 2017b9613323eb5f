import type { Redis } from 'ioredis'
import { tickBatcher } from './tick-batcher.js'

/**
 * A Redis store for @fastify/rate-limit that sends every counter incremented during one turn
 * of the event loop as a single script: the user and route limits of one request, and those
 * of every other request being handled at the same moment, cost one round trip together
 * instead of one each. Same semantics as the plugin's own RedisStore (fixed window: INCR, and
 * PEXPIRE on the first hit), same atomicity (each script runs whole).
 */
const INCREMENT_ALL = `
local out = {}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[i])
  local current = redis.call('INCR', key)
  local ttl
  if current == 1 then
    redis.call('PEXPIRE', key, window)
    ttl = window
  else
    ttl = redis.call('PTTL', key)
    if ttl < 0 then
      redis.call('PEXPIRE', key, window)
      ttl = window
    end
  end
  out[#out + 1] = current
  out[#out + 1] = ttl
end
return out
`

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void

interface BatchCommand {
  incrementRateLimits(...args: Array<string | number>): Promise<number[]>
}

/** Returns a store class (the plugin instantiates it) bound to this Redis and key prefix. */
export function batchingRedisStore(redis: Redis, prefix: string) {
  if (!(redis as unknown as Partial<BatchCommand>).incrementRateLimits) {
    // No fixed number of keys: ioredis then takes the key count as the first argument.
    redis.defineCommand('incrementRateLimits', { lua: INCREMENT_ALL })
  }
  const commands = redis as unknown as BatchCommand
  const increment = tickBatcher(async (batch: Array<{ key: string; timeWindow: number }>) => {
    const flat = await commands.incrementRateLimits(batch.length, ...batch.map((entry) => entry.key), ...batch.map((entry) => entry.timeWindow))
    return batch.map((_entry, i) => ({ current: flat[2 * i]!, ttl: flat[2 * i + 1]! }))
  })

  return class BatchingRedisStore {
    incr(key: string, callback: Callback, timeWindow: number): void {
      increment({ key: prefix + key, timeWindow }).then((result) => callback(null, result), (error: Error) => callback(error))
    }

    child(): BatchingRedisStore {
      return this
    }
  }
}
