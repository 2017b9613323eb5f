/**
 * Issue 24: where token usage is counted. Periods are UTC calendar days and months, named from
 * the gateway's clock (the same on every replica to within clock skew): a budget resets at
 * midnight UTC, or on the 1st of the month, which users and ops can read without knowing when
 * the first request of a window came. Every key is relative to the namespace's hash tag
 * (src/redis/keys.ts), so it lives in the admission script's slot, and has a TTL.
 */

export interface Periods {
  /** `2026-12-07` */
  readonly day: string
  /** `2026-12` */
  readonly month: string
  /** `2026-12-07T09`: the bucket of the heaviest-users ranking. */
  readonly hour: string
  /** Milliseconds until the day, and the month, end. */
  readonly dayResetMs: number
  readonly monthResetMs: number
  /** When they end (seconds since the epoch): the `reset` the browser is told. */
  readonly dayResetAt: number
  readonly monthResetAt: number
  /** The month's length in seconds (the `w` of its RateLimit-Policy). */
  readonly monthSeconds: number
}

/** The names and ends of one UTC hour's periods: the same for every request of that hour. */
interface HourPeriods {
  readonly hourStart: number
  readonly day: string
  readonly month: string
  readonly hour: string
  readonly dayEnd: number
  readonly monthEnd: number
  readonly monthSeconds: number
}
let lastHour: HourPeriods | undefined

function hourPeriods(nowMs: number): HourPeriods {
  const hourStart = nowMs - (((nowMs % 3_600_000) + 3_600_000) % 3_600_000)
  if (lastHour?.hourStart === hourStart) return lastHour
  const now = new Date(nowMs)
  const iso = now.toISOString()
  const monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)
  lastHour = {
    hourStart,
    day: iso.slice(0, 10),
    month: iso.slice(0, 7),
    hour: iso.slice(0, 13),
    dayEnd: Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1),
    monthEnd,
    monthSeconds: (monthEnd - Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)) / 1000
  }
  return lastHour
}

/** Every admission and every answer asks this: the calendar work is done once an hour (issue 26). */
export function periodsAt(nowMs: number): Periods {
  const { day, month, hour, dayEnd, monthEnd, monthSeconds } = hourPeriods(nowMs)
  return {
    day,
    month,
    hour,
    dayResetMs: dayEnd - nowMs,
    monthResetMs: monthEnd - nowMs,
    dayResetAt: Math.ceil(dayEnd / 1000),
    monthResetAt: Math.ceil(monthEnd / 1000),
    monthSeconds
  }
}

/** Kept a little past their period, so `/usage/me` and `usage top` can still read yesterday's. */
export const DAY_TTL_MS = 3 * 86_400_000
export const MONTH_TTL_MS = 63 * 86_400_000
/** Hourly ranking buckets: `usage top` looks back at most a week. */
export const TOP_TTL_MS = 8 * 86_400_000
export const TOP_MAX_HOURS = 7 * 24

export type Owner = { readonly kind: 'user' | 'tenant'; readonly id: string }

export const dayKey = (owner: Owner, periods: Periods) => `tokens:${owner.kind}:${owner.id}:d:${periods.day}`
export const monthKey = (owner: Owner, periods: Periods) => `tokens:${owner.kind}:${owner.id}:m:${periods.month}`
export const topKey = (what: 'users' | 'agents', hour: string) => `usage:top:${what}:${hour}`

/** The hour buckets of the last `hours` hours, newest first. */
export function hoursBack(nowMs: number, hours: number): string[] {
  const out: string[] = []
  for (let h = 0; h < hours; h++) out.push(new Date(nowMs - h * 3_600_000).toISOString().slice(0, 13))
  return out
}

/**
 * The counts kept per owner and period (a Redis hash): `tokens` is what budgets compare (an
 * answer from Agent Studio's cache costs none), the others what Agent Studio reported;
 * `agent:<id>` splits `tokens` by agent (agent ids come from the allow-list: bounded).
 */
export const USAGE_FIELDS = ['tokens', 'input', 'output', 'reasoning', 'cached', 'answers'] as const
export type UsageCounts = Record<(typeof USAGE_FIELDS)[number], number> & { readonly agents: Record<string, number> }

export function countsFrom(hash: Record<string, string | number> | undefined): UsageCounts {
  const counts = { tokens: 0, input: 0, output: 0, reasoning: 0, cached: 0, answers: 0, agents: {} as Record<string, number> }
  for (const [field, raw] of Object.entries(hash ?? {})) {
    const value = Number(raw)
    if (!Number.isFinite(value)) continue
    if (field.startsWith('agent:')) counts.agents[field.slice(6)] = value
    else if ((USAGE_FIELDS as readonly string[]).includes(field)) counts[field as (typeof USAGE_FIELDS)[number]] = value
  }
  return counts
}

/**
 * What is left of one budget: the budget (null: off), what remains of it after `spent`, and when
 * its period ends. What `/usage/me` and the stream's budget trailer both tell the browser.
 */
export function budgetLeft(limit: number, spent: number, resetAtSeconds: number) {
  return {
    limit: limit > 0 ? limit : null,
    remaining: limit > 0 ? Math.max(0, limit - spent) : null,
    resetAt: new Date(resetAtSeconds * 1000).toISOString()
  }
}
