import { LRUCache } from 'lru-cache'
import { upTo } from '../bounded-cache.js'
import { BlockedAddresses, OUTCOME, refusalOf } from './admission.js'
import type { AdmissionRequest, AdmissionStore, CounterCheck, CounterState, LeaseCheck, Verdict } from './admission.js'

/** Counters kept at most; a flood of distinct keys evicts the least recently used (as @fastify/rate-limit's LocalStore does). */
const MAX_COUNTERS = 100_000

/**
 * The admission rules of admission.ts for one replica, when no Redis is configured. Same order
 * and outcomes as the Redis script (src/redis/admission-store.ts), answered synchronously.
 */
export function memoryAdmission(now: () => number = Date.now, tokensAt: (key: string) => number = () => 0): AdmissionStore {
  const counters = new LRUCache<string, { current: number; resetAt: number }>({ ...upTo(MAX_COUNTERS) })
  const blocked = new BlockedAddresses(MAX_COUNTERS, now)
  const leasesPerUser = new Map<string, number>()
  let openLeases = 0
  let heldUntil = 0

  function read(key: string): CounterState {
    const entry = counters.get(key)
    if (entry === undefined || entry.resetAt <= now()) return { current: 0, ttlMs: 0 }
    return { current: entry.current, ttlMs: entry.resetAt - now() }
  }

  function count(counter: CounterCheck): CounterState {
    let entry = counters.get(counter.key)
    if (entry === undefined || entry.resetAt <= now()) {
      entry = { current: 0, resetAt: now() + counter.windowMs }
      counters.set(counter.key, entry)
    }
    entry.current++
    return { current: entry.current, ttlMs: entry.resetAt - now() }
  }

  function decide(request: AdmissionRequest): Verdict {
    // The user's tokens this day and month, once the token budgets were read (for the headers).
    let spent: { day: number; month: number } | undefined
    const refused = (code: number, retryAfterMs = 0, counted: Partial<Verdict> = {}): Verdict => ({
      refusal: refusalOf(code, retryAfterMs)!,
      leaseGranted: false,
      ...counted,
      ...(spent === undefined ? {} : { tokens: spent })
    })
    if (request.ip !== undefined && request.ip.max > 0) {
      const failures = read(request.ip.key)
      if (failures.current >= request.ip.max) return refused(OUTCOME.ip, failures.ttlMs)
    }
    if (request.upstream && heldUntil > now()) return refused(OUTCOME.holdOff, heldUntil - now())
    const user = request.user === undefined ? undefined : count(request.user)
    const route = request.route === undefined ? undefined : count(request.route)
    const counted = { ...(user === undefined ? {} : { user }), ...(route === undefined ? {} : { route }) }
    if (route !== undefined && route.current > request.route!.max) return refused(OUTCOME.route, route.ttlMs, counted)
    if (user !== undefined && user.current > request.user!.max) return refused(OUTCOME.user, user.ttlMs, counted)
    const tokens = request.tokens
    if (tokens !== undefined) {
      spent = { day: tokensAt(tokens.userDay), month: tokensAt(tokens.userMonth) }
      const over = (max: number, used: number) => max > 0 && used >= max
      const code = over(tokens.userDaily, spent.day)
        ? OUTCOME.tokensUserDay
        : over(tokens.userMonthly, spent.month)
          ? OUTCOME.tokensUserMonth
          : tokens.tenantDay !== undefined && over(tokens.tenantDaily, tokensAt(tokens.tenantDay))
            ? OUTCOME.tokensTenantDay
            : tokens.tenantMonth !== undefined && over(tokens.tenantMonthly, tokensAt(tokens.tenantMonth))
              ? OUTCOME.tokensTenantMonth
              : 0
      if (code !== 0) return { refusal: refusalOf(code, 0, tokens)!, leaseGranted: false, ...counted, tokens: spent }
    }
    const lease = request.lease
    if (lease !== undefined) {
      if (lease.userCap > 0 && (leasesPerUser.get(lease.userKey) ?? 0) >= lease.userCap) return refused(OUTCOME.streamsUser, 0, counted)
      if (lease.globalCap > 0 && openLeases >= lease.globalCap) return refused(OUTCOME.streamsGlobal, 0, counted)
    }
    let budgetSpent: number | undefined
    const budget = request.budget
    if (budget !== undefined && budget.max > 0) {
      // Checked before it is spent: the user's share, then the class's ceiling (as the script does).
      if (budget.share !== undefined && budget.share.max > 0) {
        const used = read(budget.share.key)
        if (used.current >= budget.share.max) return refused(OUTCOME.share, used.ttlMs || budget.windowMs, counted)
      }
      const used = read('budget')
      if (used.current >= budget.ceiling) return refused(OUTCOME.budget, used.ttlMs || budget.windowMs, { ...counted, budgetSpent: used.current })
      budgetSpent = count({ key: 'budget', max: budget.max, windowMs: budget.windowMs }).current
      if (budget.share !== undefined && budget.share.max > 0) count({ key: budget.share.key, max: budget.share.max, windowMs: budget.windowMs })
    }
    if (lease !== undefined) {
      leasesPerUser.set(lease.userKey, (leasesPerUser.get(lease.userKey) ?? 0) + 1)
      openLeases++
    }
    return {
      leaseGranted: lease !== undefined,
      ...counted,
      ...(budgetSpent === undefined ? {} : { budgetSpent }),
      ...(spent === undefined ? {} : { tokens: spent })
    }
  }

  return {
    async admit(request) {
      const verdict = decide(request)
      if (verdict.refusal?.kind === 'ip') blocked.block(request.ip!.key, verdict.refusal.retryAfterMs)
      return verdict
    },
    async countFailure(counter) {
      const state = count(counter)
      if (state.current >= counter.max) blocked.block(counter.key, state.ttlMs)
      return state
    },
    blockedFor: (key) => blocked.blockedFor(key),
    release(lease: LeaseCheck) {
      openLeases--
      const left = (leasesPerUser.get(lease.userKey) ?? 1) - 1
      if (left === 0) leasesPerUser.delete(lease.userKey)
      else leasesPerUser.set(lease.userKey, left)
    },
    holdOff(ms) {
      heldUntil = Math.max(heldUntil, now() + ms)
    },
    async close() {}
  }
}
