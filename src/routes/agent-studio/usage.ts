import type { FastifyReply, FastifyRequest } from 'fastify'
import { budgetLeft, countsFrom, dayKey, monthKey, periodsAt } from '../../usage/token-keys.js'
import type { UsageCounts } from '../../usage/token-keys.js'
import type { AgentStudioRouteContext, RouteImplementation } from './route-context.js'
import { RedisUnavailable } from '../../errors.js'

const RETRY_AFTER_SECONDS = 5

interface PeriodView extends UsageCounts {
  readonly period: string
  /** The budget in force (null: none), what is left of it, and when the period ends. */
  readonly limit: number | null
  readonly remaining: number | null
  readonly resetAt: string
}

/**
 * `GET /agent-studio/usage/me`: the caller's own tokens this UTC day and month, by agent, and the
 * budgets in force with what is left (and its tenant's, with SESSION_TENANT_CLAIM). Only ever the
 * caller's: the user id comes from the session, never from the request. Calls no upstream.
 */
export function usageMe(options: AgentStudioRouteContext): RouteImplementation {
  const { tokens, live, tenantOf } = options
  const now = options.now ?? Date.now
  return {
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const periods = periodsAt(now())
      const userId = request.user.id
      const tenant = tenantOf(userId)
      const owners = [{ kind: 'user' as const, id: userId }, ...(tenant === undefined ? [] : [{ kind: 'tenant' as const, id: tenant }])]
      let hashes: Array<Record<string, string>>
      try {
        hashes = await tokens.read(owners.flatMap((owner) => [dayKey(owner, periods), monthKey(owner, periods)]))
      } catch (error) {
        // Nothing to show without the store: say so (503), never a 500.
        throw new RedisUnavailable({ cause: error, retryAfterSeconds: RETRY_AFTER_SECONDS })
      }
      const budget = live.current.tokenBudget
      const view = (hash: Record<string, string> | undefined, limit: number, period: string, resetAt: number): PeriodView => {
        const counts = countsFrom(hash)
        return { period, ...counts, ...budgetLeft(limit, counts.tokens, resetAt) }
      }
      const user = {
        day: view(hashes[0], budget.user.daily, periods.day, periods.dayResetAt),
        month: view(hashes[1], budget.user.monthly, periods.month, periods.monthResetAt)
      }
      // Personal data: never stored by a shared cache.
      reply.header('cache-control', 'private, no-store')
      return {
        ...user,
        ...(tenant === undefined
          ? {}
          : {
              tenant: {
                day: view(hashes[2], budget.tenant.daily, periods.day, periods.dayResetAt),
                month: view(hashes[3], budget.tenant.monthly, periods.month, periods.monthResetAt)
              }
            })
      }
    }
  }
}
