import { randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { LimitsConfig } from '../config/limits.js'
import { RateLimited, RedisUnavailable, TokenBudgetExhausted, TooManyStreams, UpstreamBudgetExhausted, UpstreamShareExhausted } from '../errors.js'
import type { Metrics } from '../metrics.js'
import { throwIfClientGone } from '../http/client-gone.js'
import { StoreRefused } from './admission.js'
import type { AdmissionRequest, AdmissionStore, BudgetCheck, CounterState, LeaseCheck, Refusal, TokenBudgetCheck, Verdict } from './admission.js'
import { dayKey, monthKey, periodsAt } from '../usage/token-keys.js'
import type { Periods } from '../usage/token-keys.js'
import { allowListMatcher } from './allow-list.js'
import { userShare } from '../config/limits.js'
import { ROUTE_GROUPS } from '../config/route-table.js'
import { classCeiling, routeBudgetClass } from './budget-classes.js'
import type { BudgetClass } from './budget-classes.js'
import { clientAddressKey } from './client-address.js'
import type { LiveLimits } from '../config/live-limits.js'

export type LimitHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>
type RouteName = keyof LimitsConfig['routes']

export interface RouteLimitOptions {
  /** Holds a stream slot until the response closes (completions; streamed tasks decide per request). */
  readonly stream?: boolean | ((request: FastifyRequest) => boolean)
  /** Calls Agent Studio: spends the upstream budget and respects a hold-off (default true). */
  readonly upstream?: boolean
}

export interface RequestLimiters {
  /**
   * Before any credential work: refuses (429) an address already over its failed-authentication
   * budget, known without a round trip (issue 11 item 5). Allow-listed addresses are exempt.
   */
  beforeCredentials(request: FastifyRequest, reply: FastifyReply): void
  /** A request whose session was refused: counts it against its address (and refuses once over). */
  failedAuthentication(request: FastifyRequest, reply: FastifyReply): Promise<void>
  /** Every shared check of a signed-in request, in one question to the store (admission.ts). */
  forRoute(name?: RouteName, options?: RouteLimitOptions): LimitHook
}

export interface RequestLimitOptions {
  readonly live: LiveLimits
  readonly store: AdmissionStore
  readonly metrics: Metrics
  /** The caller's tenant (SESSION_TENANT_CLAIM), for the tenant's token budget; absent: none. */
  readonly tenantOf?: (userId: string) => string | undefined
  /** The clock that names the token budgets' day and month (tests freeze it). */
  readonly now?: () => number
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))

/**
 * Request limits (fixed windows), stream caps and the upstream budget, read from LiveLimits on
 * every request (a reload applies at once; counters are kept). The per-IP budget counts failed
 * authentications only, so an office behind one NAT address is limited only by failures from
 * inside it; once an address is over, everything from it is refused until its window ends.
 */
export function buildRequestLimiters({ live, store, metrics, tenantOf = () => undefined, now = Date.now }: RequestLimitOptions): RequestLimiters {
  const isAllowListed = allowListMatcher(live)

  /** The token budgets in force for this user, or nothing when all are off. */
  function tokenCheck(limits: LimitsConfig, userId: string, periods: Periods): TokenBudgetCheck | undefined {
    const { user, tenant: tenantBudget } = limits.tokenBudget
    const tenant = tenantOf(userId)
    const tenantOn = tenant !== undefined && (tenantBudget.daily > 0 || tenantBudget.monthly > 0)
    if (user.daily === 0 && user.monthly === 0 && !tenantOn) return undefined
    const owner = { kind: 'user' as const, id: userId }
    return {
      userDay: dayKey(owner, periods),
      userMonth: monthKey(owner, periods),
      userDaily: user.daily,
      userMonthly: user.monthly,
      ...(tenantOn ? { tenantDay: dayKey({ kind: 'tenant', id: tenant }, periods), tenantMonth: monthKey({ kind: 'tenant', id: tenant }, periods) } : {}),
      tenantDaily: tenantBudget.daily,
      tenantMonthly: tenantBudget.monthly,
      dayResetMs: periods.dayResetMs,
      monthResetMs: periods.monthResetMs
    }
  }

  /**
   * What is left of the user's token budgets, in the IETF RateLimit header fields
   * (draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` names each policy with its quota
   * `q` and window `w`, `RateLimit` its remaining `r` and seconds to reset `t`), on every answer
   * of a budgeted route, refusals included. Request counters keep their x-ratelimit-* headers.
   */
  function setTokenHeaders(reply: FastifyReply, limits: LimitsConfig, spent: { day: number; month: number }, periods: Periods): void {
    const { daily, monthly } = limits.tokenBudget.user
    const policies: string[] = []
    const state: string[] = []
    if (daily > 0) {
      policies.push(`"tokens-day";q=${daily};w=86400`)
      state.push(`"tokens-day";r=${Math.max(0, daily - spent.day)};t=${seconds(periods.dayResetMs)}`)
    }
    if (monthly > 0) {
      policies.push(`"tokens-month";q=${monthly};w=${periods.monthSeconds}`)
      state.push(`"tokens-month";r=${Math.max(0, monthly - spent.month)};t=${seconds(periods.monthResetMs)}`)
    }
    if (policies.length === 0) return
    reply.header('ratelimit-policy', policies.join(', '))
    reply.header('ratelimit', state.join(', '))
  }

  function setHeaders(reply: FastifyReply, max: number, state: CounterState): void {
    const reset = seconds(state.ttlMs)
    reply.header('x-ratelimit-limit', max)
    reply.header('x-ratelimit-remaining', Math.max(0, max - state.current))
    reply.header('x-ratelimit-reset', reset)
  }

  /** 429 from a counter: the body says `rate_limited`, the log line which counter (`rate_limited:user`). */
  function rateLimited(counter: string, max: number, retryAfterMs: number): Error {
    const retry = seconds(retryAfterMs)
    return new RateLimited(String(retry), {
      logRule: `rate_limited:${counter}`,
      retryAfterSeconds: retry,
      rateLimit: { limit: max, remaining: 0, resetSeconds: retry }
    })
  }

  /** The store could not answer: the failure policy decides, and each check skipped is counted. */
  function onStoreFailure(request: FastifyRequest, error: unknown, checks: string[]): void {
    const policy = live.current.onRedisError
    metrics.redisFailures.inc({ policy })
    if (policy === 'open') {
      for (const check of checks) metrics.limitFailOpen.inc({ check })
      // Redis away, or Redis answering with an error (a misconfiguration, logged at error level by the store).
      request.summary.degraded = error instanceof StoreRefused ? 'redis_script_error' : 'redis_unavailable'
      request.summary.failedOpen = checks
      return
    }
    throw new RedisUnavailable({ cause: error, retryAfterSeconds: 5 })
  }

  function refuse(refusal: Refusal, limits: LimitsConfig, name: RouteName | undefined): Error {
    switch (refusal.kind) {
      case 'ip':
        return rateLimited('ip', limits.ip.max, refusal.retryAfterMs)
      case 'user':
        return rateLimited('user', limits.user.max, refusal.retryAfterMs)
      case 'route':
        return rateLimited(`route:${name!}`, limits.routes[name!].max, refusal.retryAfterMs)
      case 'streams': {
        const cap = refusal.scope === 'user' ? limits.streams.perUser : limits.streams.global
        const detail = refusal.scope === 'user' ? ` for you (at most ${cap})` : ' on this service'
        return new TooManyStreams(detail, { retryAfterSeconds: 5 })
      }
      case 'share': {
        const retry = seconds(refusal.retryAfterMs)
        return new UpstreamShareExhausted(`retry in ${retry} seconds`, { logRule: 'upstream_user_share', retryAfterSeconds: retry })
      }
      case 'tokens': {
        const retry = seconds(refusal.retryAfterMs)
        const periods = periodsAt(now())
        const resetAt = new Date((refusal.period === 'day' ? periods.dayResetAt : periods.monthResetAt) * 1000).toISOString()
        const whose = refusal.scope === 'user' ? 'your' : "your organisation's"
        const budget = refusal.scope === 'user' ? limits.tokenBudget.user : limits.tokenBudget.tenant
        return new TokenBudgetExhausted(`${whose} ${refusal.period === 'day' ? 'daily' : 'monthly'} budget resets at ${resetAt}`, {
          logRule: `token_budget:${refusal.scope}:${refusal.period}`,
          retryAfterSeconds: retry,
          publicFields: { scope: refusal.scope, period: refusal.period, limit: refusal.period === 'day' ? budget.daily : budget.monthly, resetAt }
        })
      }
      case 'budget':
      case 'holdOff': {
        const retry = seconds(refusal.retryAfterMs)
        const why = refusal.kind === 'budget' ? 'its budget of requests to Agent Studio is spent for now' : 'Agent Studio asked it to slow down'
        return new UpstreamBudgetExhausted(`${why}; retry in ${retry} seconds`, {
          logRule: refusal.kind === 'budget' ? 'upstream_budget' : 'upstream_hold_off',
          retryAfterSeconds: retry
        })
      }
    }
  }

  return {
    beforeCredentials(request) {
      const { ip } = live.current
      if (ip.max === 0 || isAllowListed(request.ip)) return
      const left = store.blockedFor(`ip:${clientAddressKey(request.ip)}`)
      if (left > 0) throw rateLimited('ip', ip.max, left)
    },

    async failedAuthentication(request, reply) {
      const { ip } = live.current
      if (ip.max === 0 || isAllowListed(request.ip)) return
      let state: CounterState
      try {
        state = await store.countFailure({ key: `ip:${clientAddressKey(request.ip)}`, max: ip.max, windowMs: ip.windowSeconds * 1000 })
      } catch (error) {
        onStoreFailure(request, error, ['ip'])
        return
      }
      throwIfClientGone(request)
      setHeaders(reply, ip.max, state)
      if (state.current > ip.max) throw rateLimited('ip', ip.max, state.ttlMs)
    },

    forRoute(name, options = {}) {
      const wantsLease = options.stream ?? false
      const callsUpstream = options.upstream !== false
      // Named: traces show this hook as `onRequest - admission` (docs/runbook.md).
      return async function admission(request, reply) {
        const limits = live.current
        const userId = request.user.id
        const exempt = isAllowListed(request.ip)
        const route = name === undefined ? undefined : limits.routes[name]
        const { streams, upstreamBudget } = limits
        const budgetClass: BudgetClass = name === undefined ? 'chat' : routeBudgetClass(name)
        const budgeted = !exempt && name !== undefined && ROUTE_GROUPS[name].spendsTokens
        const periods = budgeted ? periodsAt(now()) : undefined
        const tokens = periods === undefined ? undefined : tokenCheck(limits, userId, periods)
        let lease: LeaseCheck | undefined
        if (typeof wantsLease === 'function' ? wantsLease(request) : wantsLease) {
          lease = {
            userKey: `streams:user:${userId}`,
            id: randomUUID(),
            userCap: streams.perUser,
            globalCap: streams.global,
            leaseMs: streams.leaseSeconds * 1000
          }
        }
        const question: AdmissionRequest = {
          upstream: callsUpstream,
          ...(exempt || limits.ip.max === 0 ? {} : { ip: { key: `ip:${clientAddressKey(request.ip)}`, max: limits.ip.max } }),
          ...(exempt || limits.user.max === 0 ? {} : { user: { key: `user:${userId}`, max: limits.user.max, windowMs: limits.user.windowSeconds * 1000 } }),
          ...(exempt || route === undefined || route.max === 0
            ? {}
            : { route: { key: `route:${name!}:${userId}`, max: route.max, windowMs: route.windowSeconds * 1000 } }),
          ...(lease === undefined ? {} : { lease }),
          ...(tokens === undefined ? {} : { tokens }),
          ...(callsUpstream && upstreamBudget.max > 0 ? { budget: budgetCheck(upstreamBudget, budgetClass, exempt ? undefined : userId) } : {})
        }

        // Registered before the first await: a client that leaves while we wait still frees
        // the slot, exactly once, whenever the answer comes (issue 11 item 6).
        let state = 'asking' as 'asking' | 'held' | 'released'
        if (lease !== undefined) {
          reply.raw.once('close', () => {
            if (state === 'held') {
              store.release(lease)
              metrics.openStreams.dec()
            }
            state = 'released'
          })
        }

        metrics.upstreamBudgetMax.set(upstreamBudget.max)
        let verdict: Verdict
        try {
          verdict = await store.admit(question)
          // The window is full, and the next one starts soon: wait for it instead of refusing
          // (issue 20), then ask again for what is left to decide: the hold-off, the stream slot and
          // the budget (the counters were counted once, as any request is). No slot is held while
          // waiting: the lease is granted only with the budget.
          if (verdict.refusal?.kind === 'budget' && verdict.refusal.retryAfterMs <= upstreamBudget.maxWaitMs) {
            const waited = performance.now()
            await waitFor(request, verdict.refusal.retryAfterMs)
            request.summary.budgetWaitMs = Math.round(performance.now() - waited)
            metrics.upstreamBudgetWait.observe({ class: budgetClass }, request.summary.budgetWaitMs / 1000)
            const counted = verdict
            verdict = await store.admit({
              upstream: true,
              ...(question.lease === undefined ? {} : { lease: question.lease }),
              ...(question.budget === undefined ? {} : { budget: question.budget })
            })
            verdict = {
              ...verdict,
              ...(counted.user === undefined ? {} : { user: counted.user }),
              ...(counted.route === undefined ? {} : { route: counted.route })
            }
          }
        } catch (error) {
          onStoreFailure(request, error, checksOf(question, name))
          throwIfClientGone(request)
          return
        }
        request.summary.admittedAtMs = reply.elapsedTime
        if (verdict.refusal === undefined && question.budget !== undefined && name !== undefined)
          metrics.upstreamBudgetSpent.inc({ group: name, class: budgetClass })
        if (verdict.leaseGranted) {
          if (state === 'released') store.release(lease!)
          else {
            state = 'held'
            metrics.openStreams.inc()
          }
        }
        if (verdict.budgetSpent !== undefined) metrics.upstreamBudgetRemaining.set(Math.max(0, upstreamBudget.max - verdict.budgetSpent))
        else if (upstreamBudget.max === 0) metrics.upstreamBudgetRemaining.set(0)
        throwIfClientGone(request)

        // Headers of the most specific counter that applied.
        if (verdict.route !== undefined) setHeaders(reply, route!.max, verdict.route)
        else if (verdict.user !== undefined) setHeaders(reply, limits.user.max, verdict.user)
        if (verdict.tokens !== undefined && periods !== undefined) {
          setTokenHeaders(reply, limits, verdict.tokens, periods)
          request.summary.tokensBefore = verdict.tokens
        }
        if (verdict.refusal !== undefined) throw refuse(verdict.refusal, limits, name)
      }
    }
  }
}

/** One upstream call's claim on the budget: its class's ceiling, and the user's share unless the caller is exempt. */
export function budgetCheck(budget: LimitsConfig['upstreamBudget'], budgetClass: BudgetClass, userId: string | undefined): BudgetCheck {
  return {
    max: budget.max,
    windowMs: budget.windowSeconds * 1000,
    ceiling: classCeiling(budget.max, budgetClass),
    ...(userId === undefined ? {} : { share: { key: `upstream:share:${userId}`, max: userShare(budget) } })
  }
}

/** Waits `ms`, or less if the client leaves (then the caller's throwIfClientGone ends the request). */
function waitFor(request: FastifyRequest, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(1, ms))
    function done() {
      clearTimeout(timer)
      request.raw.off('close', done)
      resolve()
    }
    request.raw.once('close', done)
  })
}

function checksOf(question: AdmissionRequest, name: RouteName | undefined): string[] {
  const checks: string[] = []
  if (question.ip !== undefined) checks.push('ip')
  if (question.user !== undefined) checks.push('user')
  if (question.route !== undefined) checks.push(`route:${name!}`)
  if (question.lease !== undefined) checks.push('streams')
  if (question.budget !== undefined) checks.push('upstream_budget')
  if (question.tokens !== undefined) checks.push('token_budget')
  return checks
}
