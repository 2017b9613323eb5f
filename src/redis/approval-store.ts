import type { ApprovalStore } from '../approvals/approval-store.js'
import { USED_TTL_MS, parsePending, pendingKey, usedKey } from '../approvals/approval-store.js'
import { keyPrefix } from './keys.js'
import type { LimitsCommands } from './scripts.js'

/** Tool approval bindings in Redis (issue 24): every replica sees them; taking one is atomic. */
export function redisApprovalStore(redis: () => LimitsCommands, namespace: string): ApprovalStore {
  const prefix = keyPrefix(namespace)
  return {
    async issue(userId, toolCallId, record, ttlMs) {
      // A minute past its expiry, so a late answer is told "expired" rather than "unbound".
      await redis().asgApprovalIssue(prefix + pendingKey(userId, toolCallId), JSON.stringify(record), ttlMs + 60_000)
    },
    async take(userId, toolCallId) {
      const answer = await redis().asgApprovalTake(prefix + pendingKey(userId, toolCallId), prefix + usedKey(userId, toolCallId), USED_TTL_MS)
      if (answer === null) return { state: 'none' }
      if (answer === 'used') return { state: 'used' }
      const record = parsePending(answer)
      return record === undefined ? { state: 'none' } : { state: 'found', record }
    }
  }
}
