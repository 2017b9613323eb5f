/** Without a usable retry-after, hold off this long (and say so to the browser). */
export const DEFAULT_HOLD_OFF_MS = 10_000
/** An upstream cannot stop the service for longer than this with one answer. */
export const MAX_HOLD_OFF_MS = 120_000

/**
 * Upstream's `retry-after` (delay-seconds or an HTTP-date, RFC 9110 §10.2.3; hostile bytes) as the
 * hold-off every replica respects (issue 10), in whole seconds: bounded, so a wild value cannot
 * take the service down. The one reading of the header: the browser's `retry-after` and the
 * hold-off are both this number (issue 19: the browser was told up to 3600 s while the hold-off
 * stopped at 120).
 */
export function holdOffSeconds(header: string | string[] | undefined, now: number = Date.now()): number {
  const value = (Array.isArray(header) ? header[0] : header)?.trim()
  let ms = DEFAULT_HOLD_OFF_MS
  if (value !== undefined && /^\d{1,9}$/.test(value)) ms = Number(value) * 1000
  else if (value !== undefined && /^[A-Za-z]{3}/.test(value) && value.length < 64) {
    const at = Date.parse(value)
    if (!Number.isNaN(at)) ms = at - now
  }
  return Math.ceil(Math.min(MAX_HOLD_OFF_MS, Math.max(1000, ms)) / 1000)
}
