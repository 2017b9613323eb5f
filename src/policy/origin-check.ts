import type { IncomingHttpHeaders } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { FastifyRequest } from 'fastify'
import { OriginNotAllowed } from '../errors.js'

export interface OriginRules {
  readonly allowedOrigins: ReadonlySet<string>
  readonly allowCookieRequestsWithoutOrigin: boolean
}

/**
 * CSRF defence for cookie sessions (a cross-site page can make the browser attach the cookie;
 * it cannot forge Origin). The decision, in order:
 * 1. `Origin` present: allowed if listed in ALLOWED_ORIGINS, or same-origin (exactly
 *    `<scheme>://<host>` of this request: the page was served by this gateway). Anything else,
 *    including `Origin: null`, `javascript://HOST` or `http://HOST` on an https gateway, is refused.
 *    Scheme and host are the request's own, or, from a proxy listed in TRUSTED_PROXIES only,
 *    its `X-Forwarded-Proto`/`X-Forwarded-Host` (Fastify's `request.protocol`/`request.host`): a
 *    reverse proxy that rewrites `Host` (a dev server's `changeOrigin`, nginx's default
 *    `proxy_pass`) keeps a same-origin page same-origin by sending the public host there.
 * 2. No `Origin` but `Sec-Fetch-Site`: a browser request; only `same-origin` and `none`
 *    (typed in the address bar) pass.
 * 3. Neither header: not a browser (curl, a server-side caller), which cannot ride on a
 *    victim's cookie; allowed unless ALLOW_COOKIE_REQUESTS_WITHOUT_ORIGIN=false.
 * Bearer sessions skip this check: a cross-site page cannot attach an Authorization header.
 */
export function checkCookieOrigin(headers: IncomingHttpHeaders, rules: OriginRules, protocol: 'http' | 'https', host: string | undefined = headers.host): void {
  const origin = headers.origin
  if (origin !== undefined) {
    if (rules.allowedOrigins.has(origin) || isSameOrigin(origin, protocol, host)) return
    throw new OriginNotAllowed(` (${truncate(origin)})`)
  }
  const site = headers['sec-fetch-site']
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none') return
    throw new OriginNotAllowed(` (a ${truncate(site)} request without an Origin header)`)
  }
  if (!rules.allowCookieRequestsWithoutOrigin) throw new OriginNotAllowed(': requests with a session cookie must carry an Origin header')
}

/**
 * The scheme the browser used: Fastify's `request.protocol` (the socket's, or the last
 * X-Forwarded-Proto entry from a TRUSTED_PROXIES peer), believed only when it is `http` or
 * `https`. A proxy that passes a client's `X-Forwarded-Proto: javascript` through must not make
 * `javascript://HOST` same-origin (issue 19); anything else is the socket's own scheme.
 */
export function requestScheme(request: FastifyRequest): 'http' | 'https' {
  const forwarded = String(request.protocol).toLowerCase()
  if (forwarded === 'https' || forwarded === 'http') return forwarded
  return (request.socket as TLSSocket).encrypted === true ? 'https' : 'http'
}

/**
 * An origin is scheme, host and port (RFC 6454): comparing the host alone let any scheme pass
 * (`javascript://HOST`, or an http page on the same host of an https gateway: issue 11).
 * Also used to tell same-origin requests from CORS refusals in the log.
 */
export function isSameOrigin(origin: string, protocol: 'http' | 'https', host: string | undefined): boolean {
  if (host === undefined) return false
  return origin.toLowerCase() === `${protocol}://${host.toLowerCase()}`
}

function truncate(value: string): string {
  return value.length > 100 ? `${value.slice(0, 100)}…` : value
}
