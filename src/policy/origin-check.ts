import type { IncomingHttpHeaders } from 'node:http'
import { OriginNotAllowed } from '../errors.js'

export interface OriginRules {
  readonly allowedOrigins: ReadonlySet<string>
  readonly allowCookieRequestsWithoutOrigin: boolean
}

/**
 * CSRF defence for cookie sessions (a cross-site page can make the browser attach the cookie;
 * it cannot forge Origin). The decision, in order:
 * 1. `Origin` present: allowed if listed in ALLOWED_ORIGINS, or same-origin (its host is the
 *    host the request was sent to: the page was served by this gateway). Anything else,
 *    including `Origin: null`, is refused. That host is the `Host` header, or, from a proxy
 *    listed in TRUSTED_PROXIES only, its `X-Forwarded-Host` (Fastify's `request.host`): a
 *    reverse proxy that rewrites `Host` (a dev server's `changeOrigin`, nginx's default
 *    `proxy_pass`) keeps a same-origin page same-origin by sending the public host there.
 * 2. No `Origin` but `Sec-Fetch-Site`: a browser request; only `same-origin` and `none`
 *    (typed in the address bar) pass.
 * 3. Neither header: not a browser (curl, a server-side caller), which cannot ride on a
 *    victim's cookie; allowed unless ALLOW_COOKIE_REQUESTS_WITHOUT_ORIGIN=false.
 * Bearer sessions skip this check: a cross-site page cannot attach an Authorization header.
 */
export function checkCookieOrigin(headers: IncomingHttpHeaders, rules: OriginRules, host: string | undefined = headers.host): void {
  const origin = headers.origin
  if (origin !== undefined) {
    if (rules.allowedOrigins.has(origin) || isSameOrigin(origin, host)) return
    throw new OriginNotAllowed(` (${truncate(origin)})`)
  }
  const site = headers['sec-fetch-site']
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none') return
    throw new OriginNotAllowed(` (a ${truncate(site)} request without an Origin header)`)
  }
  if (!rules.allowCookieRequestsWithoutOrigin) throw new OriginNotAllowed(': requests with a session cookie must carry an Origin header')
}

/** Same-origin: the page's host is the host the request was sent to (also used to tell CORS refusals apart in the log). */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false
  const schemeEnd = origin.indexOf('://')
  return schemeEnd > 0 && origin.slice(schemeEnd + 3) === host
}

function truncate(value: string): string {
  return value.length > 100 ? `${value.slice(0, 100)}…` : value
}
