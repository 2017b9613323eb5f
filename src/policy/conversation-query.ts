import { InvalidQuery } from '../errors.js'

const DATE = /^\d{4}-\d{2}-\d{2}$/

/**
 * The conversation list's query: `page` (≥ 1), `limit` (1–100), `startDate` and `endDate`
 * (YYYY-MM-DD, real dates). Validated, re-serialised; anything else is dropped.
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
    if (typeof limit !== 'string' || !/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 100) throw new InvalidQuery('limit must be a whole number from 1 to 100')
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
  return parts.length === 0 ? '' : `?${parts.join('&')}`
}

function isCalendarDate(value: string): boolean {
  if (!DATE.test(value)) return false
  const date = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value)
}
