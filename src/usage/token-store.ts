import { LRUCache } from 'lru-cache'
import { upTo } from '../bounded-cache.js'
import type { TokenUsage } from './usage-reader.js'
import { DAY_TTL_MS, MONTH_TTL_MS, TOP_TTL_MS, dayKey, hoursBack, monthKey, periodsAt, topKey } from './token-keys.js'
import type { Owner } from './token-keys.js'

/** One answer's tokens, spent against its user (and tenant) after the answer. */
export interface TokenRecord {
  readonly userId: string
  readonly tenant?: string
  readonly agentId: string
  readonly usage: TokenUsage
  /** What the budgets count: 0 for an answer from Agent Studio's cache (no LLM ran). */
  readonly charged: number
  readonly nowMs: number
}

export interface TopEntry {
  readonly id: string
  readonly tokens: number
}

/** Where token usage is kept: Redis (shared by every replica) or this process's memory. */
export interface TokenStore {
  /**
   * Adds one answer's tokens (a separate write from admission: the answer is over). Redis gathers
   * them for a moment and writes them together (src/redis/token-store.ts): settled once written.
   */
  record(entry: TokenRecord): Promise<void>
  /** Writes what is gathered now (before a read, and at shutdown). */
  flush(): Promise<void>
  /** The usage hashes at these keys (token-keys.ts), `{}` for a key with none. */
  read(keys: readonly string[]): Promise<Array<Record<string, string>>>
  /** The heaviest users or agents over the last `hours` hours (charged tokens). */
  top(what: 'users' | 'agents', hours: number, limit: number, nowMs: number): Promise<TopEntry[]>
}

/** The keys and increments of one record, shared by both stores so they cannot disagree. */
export function recordPlan(entry: TokenRecord): { hashes: Array<{ key: string; ttlMs: number }>; fields: Array<[string, number]>; hour: string } {
  const periods = periodsAt(entry.nowMs)
  const owners: Owner[] = [{ kind: 'user', id: entry.userId }, ...(entry.tenant === undefined ? [] : [{ kind: 'tenant' as const, id: entry.tenant }])]
  const hashes = owners.flatMap((owner) => [
    { key: dayKey(owner, periods), ttlMs: DAY_TTL_MS },
    { key: monthKey(owner, periods), ttlMs: MONTH_TTL_MS }
  ])
  const { usage } = entry
  const fields: Array<[string, number]> = [
    ['tokens', entry.charged],
    ['input', usage.input],
    ['output', usage.output],
    ['reasoning', usage.reasoning],
    ['cached', usage.cached],
    ['answers', 1],
    [`agent:${entry.agentId}`, entry.charged]
  ]
  return { hashes, fields, hour: periods.hour }
}

const MAX_KEYS = 100_000

/** One replica's usage, when no Redis is configured (the budgets then hold per replica, like the other limits). */
export function memoryTokenStore(): TokenStore & { tokensAt(key: string): number } {
  const hashes = new LRUCache<string, { fields: Map<string, number>; expiresAt: number }>({ ...upTo(MAX_KEYS) })
  const live = (key: string) => {
    const entry = hashes.get(key)
    return entry === undefined || entry.expiresAt <= Date.now() ? undefined : entry
  }
  const add = (key: string, ttlMs: number, field: string, by: number) => {
    let entry = live(key)
    if (entry === undefined) {
      entry = { fields: new Map(), expiresAt: Date.now() + ttlMs }
      hashes.set(key, entry)
    }
    entry.fields.set(field, (entry.fields.get(field) ?? 0) + by)
  }
  return {
    async record(entry) {
      const plan = recordPlan(entry)
      for (const { key, ttlMs } of plan.hashes) for (const [field, by] of plan.fields) add(key, ttlMs, field, by)
      add(topKey('users', plan.hour), TOP_TTL_MS, entry.userId, entry.charged)
      add(topKey('agents', plan.hour), TOP_TTL_MS, entry.agentId, entry.charged)
    },
    async flush() {},
    async read(keys) {
      return keys.map((key) => Object.fromEntries([...(live(key)?.fields ?? new Map<string, number>())].map(([field, value]) => [field, String(value)])))
    },
    async top(what, hours, limit, nowMs) {
      const sums = new Map<string, number>()
      for (const hour of hoursBack(nowMs, hours)) for (const [id, tokens] of live(topKey(what, hour))?.fields ?? []) sums.set(id, (sums.get(id) ?? 0) + tokens)
      return [...sums]
        .map(([id, tokens]) => ({ id, tokens }))
        .sort((a, b) => b.tokens - a.tokens || a.id.localeCompare(b.id))
        .slice(0, limit)
    },
    tokensAt: (key) => live(key)?.fields.get('tokens') ?? 0
  }
}
