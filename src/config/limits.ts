import { z } from 'zod'
import { addressEntryProblem } from './addresses.js'
import type { Frozen } from './frozen.js'
import { ROUTE_GROUPS } from './route-table.js'
import type { RouteGroup } from './route-table.js'

/**
 * Request limits and stream caps: the part of the configuration ops tune live. They live in
 * the policy file's `limits:` section only (so that a SIGHUP reload can change them) and are
 * validated by this schema at start and on every reload.
 */

const window = z
  .object({
    /** Requests allowed per window; 0 turns this limit off. */
    max: z.number().int().min(0).max(1_000_000),
    windowSeconds: z.number().int().min(1).max(86_400)
  })
  .strict()

const tokenPeriods = z
  .object({
    daily: z.number().int().min(0).max(1_000_000_000_000).default(0),
    monthly: z.number().int().min(0).max(1_000_000_000_000).default(0)
  })
  .strict()

const cidr = z.string().superRefine((entry, context) => {
  const problem = addressEntryProblem(entry)
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem })
})

type RouteWindow = { max: number; windowSeconds: number }
const routeGroupNames = Object.keys(ROUTE_GROUPS) as RouteGroup[]
const routeWindows = Object.fromEntries(routeGroupNames.map((name) => [name, window.default(ROUTE_GROUPS[name].defaults)])) as {
  [K in RouteGroup]: z.ZodDefault<typeof window>
}
const routeDefaults = Object.fromEntries(routeGroupNames.map((name) => [name, { ...ROUTE_GROUPS[name].defaults }])) as { [K in RouteGroup]: RouteWindow }

export const limitsSchema = z
  .object({
    ip: window.default({ max: 300, windowSeconds: 60 }),
    user: window.default({ max: 600, windowSeconds: 60 }),
    // One window per route group of the route table (src/config/route-table.ts), with its defaults.
    routes: z.object(routeWindows).strict().default(routeDefaults),
    streams: z
      .object({
        perUser: z.number().int().min(0).max(10_000).default(5),
        global: z.number().int().min(0).max(10_000_000).default(2000),
        leaseSeconds: z.number().int().min(2).max(3600).default(30)
      })
      .strict()
      .default({ perUser: 5, global: 2000, leaseSeconds: 30 }),
    /**
     * The application's Agent Studio budget, shared by every replica (issues 10 and 20): on by
     * default at Agent Studio's documented ~100 requests a minute per application (raise it for a
     * plan with more; 0: no budget). Each user may spend at most `perUser` of a window (0: a tenth of
     * `max`), and a request that finds the window full may wait up to `maxWaitMs` for the next one.
     */
    upstreamBudget: z
      .object({
        max: z.number().int().min(0).max(1_000_000).default(100),
        windowSeconds: z.number().int().min(1).max(86_400).default(60),
        perUser: z.number().int().min(0).max(1_000_000).default(0),
        maxWaitMs: z.number().int().min(0).max(60_000).default(2000)
      })
      .strict()
      .default({ max: 100, windowSeconds: 60, perUser: 0, maxWaitMs: 2000 }),
    /**
     * Issue 24: tokens (as Agent Studio reports them) a user may spend per UTC day and per UTC
     * month, and a tenant (SESSION_TENANT_CLAIM) all its users together; 0 turns a budget off.
     * Checked before the upstream call with the other limits (one round trip); spent after the
     * answer, so a stream that crosses the budget finishes and the next request is refused.
     */
    tokenBudget: z
      .object({
        user: tokenPeriods.default({ daily: 0, monthly: 0 }),
        tenant: tokenPeriods.default({ daily: 0, monthly: 0 })
      })
      .strict()
      .default({ user: { daily: 0, monthly: 0 }, tenant: { daily: 0, monthly: 0 } }),
    allowList: z.array(cidr).default([]),
    onRedisError: z.enum(['open', 'closed']).default('open')
  })
  .strict()

export type LimitsConfig = Frozen<z.infer<typeof limitsSchema>>

/** Validates a `limits:` section; problems are named by their path in the file. */
export function parseLimits(raw: unknown, source: string): { limits: LimitsConfig } | { problems: string[] } {
  const result = limitsSchema.safeParse(raw ?? {})
  if (result.success) return { limits: result.data }
  return { problems: result.error.issues.map((issue) => `${source} limits.${issue.path.join('.')}: ${issue.message}`) }
}

/** The user's share of the upstream budget's window: `perUser`, or when 0 a tenth of the budget (at least 1). */
export function userShare(budget: LimitsConfig['upstreamBudget']): number {
  return budget.perUser > 0 ? budget.perUser : Math.max(1, Math.ceil(budget.max / 10))
}
