import { InvalidQuery } from '../errors.js'

const DATE = /^\d{4}-\d{2}-\d{2}$/

/**
 * The conversation list's query: `page` (≥ 1), `limit` (1–100), `startDate` and `endDate`
 * (YYYY-MM-DD, real dates), `includeFeedback` (true/false) and `feedbackVote` (0/1). Validated,
 * re-serialised; anything else is dropped.
 */
export function conversationListQuery(query: Record<string, unknown>): string {
  const parts: string[] = []
  const page = query.page
  if (page !== undefined) {
    if (typeof page !== 'string' || !/^[1-9]\d{0,5}$/.test(page)) throw new InvalidQuery('page must be a whole number from 1')
    parts.push(`page=${page}`)
  }
  const limit = query.limit
  if (limit !== undefined) {
    if (typeof limit !== 'string' || !/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 100)
      throw new InvalidQuery('limit must be a whole number from 1 to 100')
    parts.push(`limit=${limit}`)
  }
  for (const name of ['startDate', 'endDate'] as const) {
    const value = query[name]
    if (value === undefined) continue
    if (typeof value !== 'string' || !isCalendarDate(value)) throw new InvalidQuery(`${name} must be a date written YYYY-MM-DD`)
    parts.push(`${name}=${value}`)
  }
  if (typeof query.startDate === 'string' && typeof query.endDate === 'string' && query.startDate > query.endDate) {
    throw new InvalidQuery('startDate must not be after endDate')
  }
  const includeFeedback = includeFeedbackPart(query)
  if (includeFeedback !== undefined) parts.push(includeFeedback)
  const vote = query.feedbackVote
  if (vote !== undefined) {
    if (vote !== '0' && vote !== '1') throw new InvalidQuery('feedbackVote must be 0 or 1')
    // Agent Studio filters by vote only with includeFeedback=true (spec: "requires includeFeedback=true").
    if (query.includeFeedback !== 'true') throw new InvalidQuery('feedbackVote needs includeFeedback=true')
    parts.push(`feedbackVote=${vote}`)
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`
}

/** One conversation's query: `includeFeedback` (so a reopened chat can show its votes); anything else is dropped. */
export function conversationReadQuery(query: Record<string, unknown>): string {
  const includeFeedback = includeFeedbackPart(query)
  return includeFeedback === undefined ? '' : `?${includeFeedback}`
}

function includeFeedbackPart(query: Record<string, unknown>): string | undefined {
  const value = query.includeFeedback
  if (value === undefined) return undefined
  if (value !== 'true' && value !== 'false') throw new InvalidQuery('includeFeedback must be true or false')
  return `includeFeedback=${value}`
}

function isCalendarDate(value: string): boolean {
  if (!DATE.test(value)) return false
  const date = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value)
}
