/**
 * Every shared check a request passes before its upstream call, asked of the store in ONE
 * question (issue 14): the per-IP failure budget, the hold-off after an upstream 429, the
 * per-user and per-route counters, the stream lease and the upstream budget. In Redis that is
 * one script (one round trip, shared with every request of the same event-loop turn); in
 * memory the same rules run in the same order (see memory-admission.ts, src/redis/admission-store.ts).
 *
 * Order, and why: refusals that cost nothing come first (an address over its failure budget,
 * a hold-off) and spend nothing; then the request counters (a refused request still counts, as
 * in any fixed window); then the stream caps; then the upstream budget (the user's share, then
 * the class's ceiling), checked before it is spent and spent only by requests that will really
 * call upstream; the lease is taken last, only when everything allowed it. The token budgets
 * (issue 24) come right after the request counters: they spend nothing, and a request they
 * refuse takes no stream slot and spends none of the upstream budget.
 */

/** A fixed-window request counter: `max` requests per `windowMs`; refused above `max`. */
export interface CounterCheck {
  readonly key: string
  readonly max: number
  readonly windowMs: number
}

/** One open stream's claim on the caps, in the user's and the deployment's set. */
export interface LeaseCheck {
  readonly userKey: string
  readonly id: string
  readonly userCap: number
  readonly globalCap: number
  readonly leaseMs: number
}

export interface AdmissionRequest {
  /** The client address's failed-authentication counter: refused once it reached `max`. */
  readonly ip?: { readonly key: string; readonly max: number }
  readonly user?: CounterCheck
  readonly route?: CounterCheck
  readonly lease?: LeaseCheck
  /** The deployment's budget of upstream requests; absent when this request calls no upstream. */
  readonly budget?: BudgetCheck
  /** Issue 24: the user's (and tenant's) token budgets; absent when none is on or the route calls no LLM. */
  readonly tokens?: TokenBudgetCheck
  /** Refuse while upstream asked every replica to hold off (set for requests that call upstream). */
  readonly upstream: boolean
}

/**
 * One upstream call's claim on the deployment's budget (issue 20). Checked before it is spent:
 * the user's share of the window first, then the class's ceiling; a refused call spends nothing.
 */
export interface BudgetCheck {
  /** The application's Agent Studio requests per window (limits.upstreamBudget.max). */
  readonly max: number
  readonly windowMs: number
  /** How far this call's class may fill the window (chat: `max`; history and background less: budget-classes.ts). */
  readonly ceiling: number
  /** The user's share of the window, and its counter; absent: not counted against a user (an erasure's own calls). */
  readonly share?: { readonly key: string; readonly max: number }
}

/**
 * Issue 24: tokens already spent in the period (usage hashes, src/usage/token-keys.ts) against
 * each budget (0: off). Refused when spent >= budget: the request that crossed it finished, this
 * one is the next. Checked, never spent here: tokens are known only after the answer.
 */
export interface TokenBudgetCheck {
  readonly userDay: string
  readonly userMonth: string
  readonly userDaily: number
  readonly userMonthly: number
  readonly tenantDay?: string
  readonly tenantMonth?: string
  readonly tenantDaily: number
  readonly tenantMonthly: number
  readonly dayResetMs: number
  readonly monthResetMs: number
}

export type Refusal =
  | { readonly kind: 'ip' | 'holdOff' | 'user' | 'route' | 'budget' | 'share'; readonly retryAfterMs: number }
  | { readonly kind: 'tokens'; readonly scope: 'user' | 'tenant'; readonly period: 'day' | 'month'; readonly retryAfterMs: number }
  | { readonly kind: 'streams'; readonly scope: 'user' | 'global' }

export interface CounterState {
  readonly current: number
  readonly ttlMs: number
}

export interface Verdict {
  readonly refusal?: Refusal
  /** Absent when the counter was not checked (off, or an earlier refusal). */
  readonly user?: CounterState
  readonly route?: CounterState
  /** Upstream calls spent in the budget's window, this one included (when a budget is set and was reached). */
  readonly budgetSpent?: number
  /** The user's tokens spent this day and month (when a token budget was checked). */
  readonly tokens?: { readonly day: number; readonly month: number }
  readonly leaseGranted: boolean
}

export interface AdmissionStore {
  /** One question for every check; rejects when the store cannot answer (the failure policy applies). */
  admit(request: AdmissionRequest): Promise<Verdict>
  /** Counts a failed authentication from an address; resolves with the count in this window. */
  countFailure(counter: CounterCheck): Promise<CounterState>
  /** Is this address over its failure budget, known without asking anyone (no round trip)? Milliseconds left, or 0. */
  blockedFor(ipKey: string): number
  /** Frees a lease: fire-and-forget for the caller, retried by the store until done or expired. */
  release(lease: LeaseCheck): void
  /** Upstream answered 429: every replica refuses upstream calls for `ms`. */
  holdOff(ms: number): void
  /** Shutdown: stops timers and sends the releases still queued (one try). */
  close(): Promise<void>
}

/**
 * The store answered and refused the question (Redis: WRONGTYPE, NOPERM, CROSSSLOT…): a
 * misconfiguration, not an outage. The failure policy still decides the request, but its log line
 * says `redis_script_error`, not `redis_unavailable` (issue 21).
 */
export class StoreRefused extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause })
    this.name = 'StoreRefused'
  }
}

/** Outcome codes shared by the Redis script and the memory store. */
export const OUTCOME = {
  admitted: 0,
  ip: 1,
  holdOff: 2,
  user: 3,
  route: 4,
  streamsUser: 5,
  streamsGlobal: 6,
  budget: 7,
  share: 8,
  tokensUserDay: 9,
  tokensUserMonth: 10,
  tokensTenantDay: 11,
  tokensTenantMonth: 12
} as const

/** Which token budget refused, and when it resets. */
function tokenRefusal(code: number, tokens: TokenBudgetCheck | undefined): Refusal {
  const period = code === OUTCOME.tokensUserDay || code === OUTCOME.tokensTenantDay ? 'day' : 'month'
  const scope = code <= OUTCOME.tokensUserMonth ? 'user' : 'tenant'
  return { kind: 'tokens', scope, period, retryAfterMs: (period === 'day' ? tokens?.dayResetMs : tokens?.monthResetMs) ?? 0 }
}

export function refusalOf(code: number, retryAfterMs: number, tokens?: TokenBudgetCheck): Refusal | undefined {
  if (code >= OUTCOME.tokensUserDay && code <= OUTCOME.tokensTenantMonth) return tokenRefusal(code, tokens)
  switch (code) {
    case OUTCOME.admitted:
      return undefined
    case OUTCOME.ip:
      return { kind: 'ip', retryAfterMs }
    case OUTCOME.holdOff:
      return { kind: 'holdOff', retryAfterMs }
    case OUTCOME.user:
      return { kind: 'user', retryAfterMs }
    case OUTCOME.route:
      return { kind: 'route', retryAfterMs }
    case OUTCOME.streamsUser:
      return { kind: 'streams', scope: 'user' }
    case OUTCOME.streamsGlobal:
      return { kind: 'streams', scope: 'global' }
    case OUTCOME.budget:
      return { kind: 'budget', retryAfterMs }
    case OUTCOME.share:
      return { kind: 'share', retryAfterMs }
    default:
      throw new Error(`unknown admission outcome ${code}`)
  }
}

/**
 * Addresses known to be over their failure budget, so that the check before any credential
 * work costs no round trip. Filled from every answer that says so (a counted failure, an
 * admission refused for the address); bounded, entries leave when their window ends.
 */
export class BlockedAddresses {
  readonly #until = new Map<string, number>()
  constructor(
    private readonly max = 100_000,
    private readonly now: () => number = Date.now
  ) {}

  block(key: string, ms: number): void {
    if (ms <= 0) return
    if (this.#until.size >= this.max) this.#sweep()
    if (this.#until.size >= this.max) this.#until.delete(this.#until.keys().next().value!)
    this.#until.set(key, this.now() + ms)
  }

  blockedFor(key: string): number {
    const until = this.#until.get(key)
    if (until === undefined) return 0
    const left = until - this.now()
    if (left > 0) return left
    this.#until.delete(key)
    return 0
  }

  #sweep(): void {
    const now = this.now()
    for (const [key, until] of this.#until) if (until <= now) this.#until.delete(key)
  }
}
