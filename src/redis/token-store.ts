import { randomUUID } from 'node:crypto'
import type { TokenStore } from '../usage/token-store.js'
import { recordPlan } from '../usage/token-store.js'
import { TOP_MAX_HOURS, TOP_TTL_MS, hoursBack, topKey } from '../usage/token-keys.js'
import { keyPrefix } from './keys.js'
import type { LimitsCommands } from './scripts.js'

/**
 * Issue 24: token usage in Redis, shared by every replica (the admission script reads the same
 * hashes for the budgets). One script per record, per read and per ranking; every key in the
 * namespace's hash tag (keys.ts) and with a TTL (token-keys.ts).
 */
export function redisTokenStore(redis: () => LimitsCommands, namespace: string): TokenStore {
  const prefix = keyPrefix(namespace)
  return {
    async record(entry) {
      const { hashes, fields, hour } = recordPlan(entry)
      const keys = [...hashes.map((h) => prefix + h.key), prefix + topKey('users', hour), prefix + topKey('agents', hour)]
      const args = [hashes.length, fields.length, ...fields.flat(), ...hashes.map((h) => h.ttlMs), entry.userId, entry.agentId, entry.charged, TOP_TTL_MS]
      await redis().asgTokensRecord(keys.length, ...keys, ...args)
    },
    async read(keys) {
      if (keys.length === 0) return []
      const flat = await redis().asgTokensRead(keys.length, ...keys.map((key) => prefix + key))
      return flat.map((pairs) => {
        const hash: Record<string, string> = {}
        for (let i = 0; i + 1 < pairs.length; i += 2) hash[pairs[i]!] = pairs[i + 1]!
        return hash
      })
    },
    async top(what, hours, limit, nowMs) {
      const buckets = hoursBack(nowMs, Math.min(Math.max(1, hours), TOP_MAX_HOURS)).map((hour) => prefix + topKey(what, hour))
      const flat = await redis().asgTokensTop(buckets.length + 1, `${prefix}usage:top:scratch:${randomUUID()}`, ...buckets, limit)
      const out = []
      for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: flat[i]!, tokens: Number(flat[i + 1]) })
      return out
    }
  }
}
