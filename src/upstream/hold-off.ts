/** Called when Agent Studio answers 429, with its `retry-after` header as sent (hostile bytes). */
export type OnUpstreamRateLimited = (retryAfter: string | string[] | undefined) => void

/** Without a usable retry-after, hold off this long: Agent Studio's budget is per minute. */
export const DEFAULT_HOLD_OFF_MS = 10_000
/** An upstream cannot stop the service for longer than this with one answer. */
export const MAX_HOLD_OFF_MS = 120_000

/**
 * Turns upstream's `retry-after` (delay-seconds or an HTTP-date, RFC 9110 §10.2.3) into a hold-off
 * every replica respects (issue 10): bounded, so a wild value cannot take the service down.
 */
export function holdOffFromRetryAfter(holdOff: (ms: number) => void, now: () => number = Date.now): OnUpstreamRateLimited {
  return (header) => {
    const value = (Array.isArray(header) ? header[0] : header)?.trim()
    let ms = DEFAULT_HOLD_OFF_MS
    if (value !== undefined && /^\d{1,9}$/.test(value)) ms = Number(value) * 1000
    else if (value !== undefined && /^[A-Za-z]{3}/.test(value) && value.length < 64) {
      const at = Date.parse(value)
      if (!Number.isNaN(at)) ms = at - now()
    }
    holdOff(Math.min(MAX_HOLD_OFF_MS, Math.max(1000, ms)))
  }
}
