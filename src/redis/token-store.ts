import { randomUUID } from 'node:crypto'
import type { TokenStore } from '../usage/token-store.js'
import { recordPlan } from '../usage/token-store.js'
import { TOP_MAX_HOURS, TOP_TTL_MS, hoursBack, topKey } from '../usage/token-keys.js'
import { keyPrefix } from './keys.js'
import type { LimitsCommands } from './scripts.js'

/**
 * How long answers' tokens are gathered before they are written (issue 26). One write per answer
 * cost the gateway a Redis command (about 40 arguments) and Redis a script for every request;
 * gathered, the records of this window are summed per hash and per ranking member and sent as one
 * script. The token budgets then see an answer at most this long after it ended: a user can start
 * at most this window's worth of extra answers over a budget (one per open slot), which the
 * budgets already allow for a stream that crosses them.
 */
export const TOKEN_FLUSH_MS = 100
/** Hashes and rankings per script: keeps one script's run short (Redis is single-threaded). */
const CHUNK = 400

/** What a window's records add up to: per key, its TTL and its increments. */
interface Pending {
  readonly hashes: Map<string, { ttlMs: number; fields: Map<string, number> }>
  readonly rankings: Map<string, Map<string, number>>
  readonly settled: Array<{ resolve: () => void; reject: (error: unknown) => void }>
}

/**
 * Issue 24: token usage in Redis, shared by every replica (the admission script reads the same
 * hashes for the budgets). Records are gathered for TOKEN_FLUSH_MS and written together; reads and
 * rankings are one script each. Every key in the namespace's hash tag (keys.ts) and with a TTL
 * (token-keys.ts).
 */
export function redisTokenStore(redis: () => LimitsCommands, namespace: string, flushMs = TOKEN_FLUSH_MS): TokenStore {
  const prefix = keyPrefix(namespace)
  let pending: Pending | undefined
  let timer: NodeJS.Timeout | undefined

  async function flush(): Promise<void> {
    clearTimeout(timer)
    timer = undefined
    const batch = pending
    pending = undefined
    if (batch === undefined) return
    try {
      const hashes = [...batch.hashes]
      const rankings = [...batch.rankings]
      for (let i = 0; i < Math.max(hashes.length, rankings.length); i += CHUNK) {
        const someHashes = hashes.slice(i, i + CHUNK)
        const someRankings = rankings.slice(i, i + CHUNK)
        const args: Array<string | number> = [someHashes.length]
        for (const [, hash] of someHashes) {
          args.push(hash.ttlMs, hash.fields.size)
          for (const [field, by] of hash.fields) args.push(field, by)
        }
        args.push(someRankings.length)
        for (const [, members] of someRankings) {
          args.push(TOP_TTL_MS, members.size)
          for (const [member, by] of members) args.push(member, by)
        }
        const keys = [...someHashes.map(([key]) => key), ...someRankings.map(([key]) => key)]
        await redis().asgTokensRecord(keys.length, ...keys, ...args)
      }
      for (const waiter of batch.settled) waiter.resolve()
    } catch (error) {
      for (const waiter of batch.settled) waiter.reject(error)
    }
  }

  return {
    record(entry) {
      const { hashes, fields, hour } = recordPlan(entry)
      if (pending === undefined) {
        pending = { hashes: new Map(), rankings: new Map(), settled: [] }
        timer = setTimeout(() => void flush(), flushMs)
      }
      const batch = pending
      for (const { key, ttlMs } of hashes) {
        let hash = batch.hashes.get(prefix + key)
        if (hash === undefined) batch.hashes.set(prefix + key, (hash = { ttlMs, fields: new Map() }))
        for (const [field, by] of fields) hash.fields.set(field, (hash.fields.get(field) ?? 0) + by)
      }
      const rank = (key: string, member: string) => {
        let members = batch.rankings.get(key)
        if (members === undefined) batch.rankings.set(key, (members = new Map()))
        members.set(member, (members.get(member) ?? 0) + entry.charged)
      }
      rank(prefix + topKey('users', hour), entry.userId)
      rank(prefix + topKey('agents', hour), entry.agentId)
      return new Promise<void>((resolve, reject) => batch.settled.push({ resolve, reject }))
    },
    flush,
    async read(keys) {
      if (keys.length === 0) return []
      // This replica's own answers are read back (a user's /usage/me right after a chat).
      await flush()
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
