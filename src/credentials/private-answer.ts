import type { OutgoingHttpHeader } from 'node:http'

/**
 * Issue 11: conversation reads and `/user-data/me` (one URL for every user) carried no
 * cache-control, and an upstream `public, max-age=86400` passed through, so a shared cache
 * could hand one user's conversations to the next. Every non-stream Agent Studio answer is
 * therefore private and never stored, and varies on the credentials that made it personal.
 * (Streams carry `no-cache, no-transform`, set where they are relayed.)
 */
export const PRIVATE_CACHE_CONTROL = 'private, no-store'
const SESSION_VARY = ['Cookie', 'Authorization']

/** `existing` (e.g. CORS's `Origin`) plus Cookie and Authorization, each once. */
export function privateVary(existing: OutgoingHttpHeader | undefined): string {
  const names: string[] = []
  const seen = new Set<string>()
  const parts = existing === undefined ? [] : (Array.isArray(existing) ? existing : [String(existing)]).flatMap((value) => value.split(','))
  for (const name of [...parts, ...SESSION_VARY]) {
    const trimmed = name.trim()
    if (trimmed === '' || seen.has(trimmed.toLowerCase())) continue
    seen.add(trimmed.toLowerCase())
    names.push(trimmed)
  }
  return names.join(', ')
}
