import type { FastifyRequest } from 'fastify'
import type { LiveLimits } from '../config/live-limits.js'
import { budgetLeft, periodsAt } from './token-keys.js'
import type { TokenUsage } from './usage-reader.js'

/**
 * Issue 24: what is left of the user's token budgets, told to AI SDK 5+ clients in the stream
 * itself: one `message-metadata` chunk (the AI SDK's `uiMessageChunkSchema`; `useChat` merges it
 * into `message.metadata.tokenBudget`) written before the stream's end marker. `remaining` is
 * what was left when the request was admitted minus this answer's charge; other answers of the
 * same user in flight are not in it (the headers and /usage/me say the same from Redis).
 * Undefined (nothing written) when no user budget is on or none was checked.
 */
export function budgetTrailer(
  request: FastifyRequest,
  live: LiveLimits,
  now: () => number
): ((usage: TokenUsage | undefined) => string | undefined) | undefined {
  const before = request.summary.tokensBefore
  const { daily, monthly } = live.current.tokenBudget.user
  if (before === undefined || (daily === 0 && monthly === 0)) return undefined
  return (usage) => {
    const charged = usage === undefined || usage.cacheHit ? 0 : usage.total
    const periods = periodsAt(now())
    const tokenBudget = {
      ...(daily > 0 ? { day: budgetLeft(daily, before.day + charged, periods.dayResetAt) } : {}),
      ...(monthly > 0 ? { month: budgetLeft(monthly, before.month + charged, periods.monthResetAt) } : {})
    }
    return `data: ${JSON.stringify({ type: 'message-metadata', messageMetadata: { tokenBudget } })}\n\n`
  }
}
