/**
 * Agent Studio's per-application rate limit, as the stand-in models it: Algolia documents
 * about 100 requests per minute per application for Agent Studio, answered with 429 beyond
 * it. We model a fixed window and a `retry-after` of the seconds left in it (RFC 9110
 * §10.2.3; Algolia does not document the window's shape, so this is our choice).
 */
export interface RequestBudgetOptions {
  readonly max: number
  readonly windowMs: number
}

export interface RequestBudget {
  /** Counts one request; returns the seconds to wait when it is over the budget. */
  take(now?: number): number | undefined
}

export function createRequestBudget(options: RequestBudgetOptions): RequestBudget {
  let windowStart = 0
  let used = 0
  return {
    take(now = Date.now()) {
      if (now - windowStart >= options.windowMs) {
        windowStart = now
        used = 0
      }
      used++
      if (used <= options.max) return undefined
      return Math.max(1, Math.ceil((windowStart + options.windowMs - now) / 1000))
    }
  }
}
