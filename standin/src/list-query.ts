/**
 * The conversation routes' query parameters, read the way Agent Studio's FastAPI service reads
 * them (Algolia's spec: paths/conversations/conversations.yml `page` integer ≥ 1 default 1,
 * `limit` integer 1–100 default 20, `feedbackVote` integer 0–1; `startDate` and `endDate`
 * YYYY-MM-DD on the list, the export and the bulk delete). Out of range or not an integer is a
 * 422 HTTPValidationError whose items carry pydantic v2's `type`, `msg`, `input` and `ctx`.
 */
export interface ValidationProblem {
  readonly loc: Array<string | number>
  readonly msg: string
  readonly type: string
  readonly input?: unknown
  readonly ctx?: Record<string, unknown>
}

export interface IntegerBounds {
  readonly min: number
  readonly max?: number
}

/** A query integer, or the problem with it (pydantic: `int_parsing`, `greater_than_equal`, `less_than_equal`). */
export function queryInteger(query: Record<string, string | undefined>, name: string, bounds: IntegerBounds): number | undefined | ValidationProblem {
  const raw = query[name]
  if (raw === undefined) return undefined
  const loc = ['query', name]
  if (!/^[+-]?\d+$/.test(raw.trim()))
    return { loc, msg: 'Input should be a valid integer, unable to parse string as an integer', type: 'int_parsing', input: raw }
  const value = Number(raw)
  if (value < bounds.min)
    return { loc, msg: `Input should be greater than or equal to ${bounds.min}`, type: 'greater_than_equal', input: raw, ctx: { ge: bounds.min } }
  if (bounds.max !== undefined && value > bounds.max)
    return { loc, msg: `Input should be less than or equal to ${bounds.max}`, type: 'less_than_equal', input: raw, ctx: { le: bounds.max } }
  return value
}

export function isProblem(value: unknown): value is ValidationProblem {
  return typeof value === 'object' && value !== null && 'loc' in value
}

/**
 * Whether something created at `createdAt` (ISO) lies within `startDate`..`endDate`. The spec says
 * "created after" / "created before" a YYYY-MM-DD date without saying whether the day itself
 * counts; the stand-in counts both days (our choice, so a one-day range is not empty).
 */
export function createdWithin(createdAt: string, query: Record<string, string | undefined>): boolean {
  const day = createdAt.slice(0, 10)
  if (query.startDate !== undefined && day < query.startDate) return false
  if (query.endDate !== undefined && day > query.endDate) return false
  return true
}
