import { LRUCache } from 'lru-cache'
import { upTo } from '../bounded-cache.js'

/** A binding the gateway issued for one tool call awaiting approval (approvals.ts). */
export interface PendingApproval {
  readonly toolName: string
  readonly argsHash: string
  /** HMAC (hex) of user, conversation, tool call id, tool name and argsHash. */
  readonly binding: string
  /** Milliseconds since the epoch. */
  readonly expiresAt: number
}

export type Taken = { readonly state: 'found'; readonly record: PendingApproval } | { readonly state: 'used' } | { readonly state: 'none' }

/** Pending approval bindings: in Redis (every replica sees them) or in this process's memory. */
export interface ApprovalStore {
  issue(userId: string, toolCallId: string, record: PendingApproval, ttlMs: number): Promise<void>
  /** Takes the binding away (atomically: two requests racing with one approval cannot both have it). */
  take(userId: string, toolCallId: string): Promise<Taken>
}

/** How long a used binding is remembered, so a replay says "replayed" rather than "unbound". */
export const USED_TTL_MS = 24 * 3_600_000

// Each id encoded, so that no user id and call id pair can spell another's key (`a:b` + `c` and `a` + `b:c`).
export const pendingKey = (userId: string, toolCallId: string) => `approvals:pending:${encodeURIComponent(userId)}:${encodeURIComponent(toolCallId)}`
export const usedKey = (userId: string, toolCallId: string) => `approvals:used:${encodeURIComponent(userId)}:${encodeURIComponent(toolCallId)}`

export function parsePending(raw: string): PendingApproval | undefined {
  try {
    const value = JSON.parse(raw) as PendingApproval
    return typeof value.toolName === 'string' && typeof value.argsHash === 'string' && typeof value.binding === 'string' && typeof value.expiresAt === 'number'
      ? value
      : undefined
  } catch {
    return undefined
  }
}

export function memoryApprovalStore(): ApprovalStore {
  const entries = new LRUCache<string, { value: string; expiresAt: number }>({ ...upTo(100_000) })
  const get = (key: string) => {
    const entry = entries.get(key)
    return entry === undefined || entry.expiresAt <= Date.now() ? undefined : entry.value
  }
  return {
    async issue(userId, toolCallId, record, ttlMs) {
      entries.set(pendingKey(userId, toolCallId), { value: JSON.stringify(record), expiresAt: Date.now() + ttlMs + 60_000 })
    },
    async take(userId, toolCallId) {
      const pending = get(pendingKey(userId, toolCallId))
      if (pending !== undefined) {
        entries.delete(pendingKey(userId, toolCallId))
        entries.set(usedKey(userId, toolCallId), { value: '1', expiresAt: Date.now() + USED_TTL_MS })
        const record = parsePending(pending)
        return record === undefined ? { state: 'none' } : { state: 'found', record }
      }
      return get(usedKey(userId, toolCallId)) === undefined ? { state: 'none' } : { state: 'used' }
    }
  }
}
