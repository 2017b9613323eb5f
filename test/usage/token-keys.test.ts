// Issue 26: periodsAt does its calendar work once an hour; whatever the hour, it must say exactly
// what the calendar says for that moment (UTC day, month and hour, and when each ends).
import fc from 'fast-check'
import t from 'tap'
import { periodsAt } from '../../src/usage/token-keys.js'

function calendar(nowMs: number) {
  const now = new Date(nowMs)
  const dayEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)
  const monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)
  return {
    day: now.toISOString().slice(0, 10),
    month: now.toISOString().slice(0, 7),
    hour: now.toISOString().slice(0, 13),
    dayResetMs: dayEnd - nowMs,
    monthResetMs: monthEnd - nowMs,
    dayResetAt: Math.ceil(dayEnd / 1000),
    monthResetAt: Math.ceil(monthEnd / 1000),
    monthSeconds: (monthEnd - Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)) / 1000
  }
}

t.test('periodsAt agrees with the calendar at any moment, in any order of moments', async (t) => {
  const moment = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) })
  // Moments next to each other (the same hour, the last millisecond of a day or month) and far apart.
  const nearby = moment.chain((at) =>
    fc.array(
      fc.integer({ min: -7_200_000, max: 7_200_000 }).map((d) => at + d),
      { minLength: 1, maxLength: 20 }
    )
  )
  fc.assert(fc.property(nearby, (moments) => moments.every((at) => JSON.stringify(periodsAt(at)) === JSON.stringify(calendar(at)))))
  const edges = [
    Date.UTC(2026, 11, 31, 23, 59, 59, 999),
    Date.UTC(2027, 0, 1),
    Date.UTC(2028, 1, 29, 12),
    Date.UTC(2026, 11, 7, 10, 59, 59, 999),
    Date.UTC(2026, 11, 7, 11)
  ]
  for (const at of edges) t.same(periodsAt(at), calendar(at), new Date(at).toISOString())
})
