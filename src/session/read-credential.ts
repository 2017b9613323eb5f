import { parse as parseCookies } from 'cookie'
import type { IncomingHttpHeaders } from 'node:http'
import type { SessionCredential } from './types.js'

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i

/**
 * The session credential the browser sent. A bearer token wins over a cookie: it cannot be
 * attached by a cross-site page, so when both are present the safer one decides.
 */
/**
 * The session cookie alone, as the browser sent it (`name=value`, not decoded), for the session
 * endpoint: the rest of the Cookie header (analytics, preferences, anything a page or an
 * attacker adds) is not the credential. Sent whole, every junk cookie made a new forward-auth
 * cache key and a new call to the endpoint (issue 19).
 */
export function sessionCookieOnly(headers: IncomingHttpHeaders, cookieName: string): string | undefined {
  const raw = headers.cookie === undefined ? undefined : parseCookies(headers.cookie, { decode: (value) => value })[cookieName]
  return raw === undefined ? undefined : `${cookieName}=${raw}`
}

export function readCredential(headers: IncomingHttpHeaders, cookieName: string): SessionCredential | undefined {
  const authorization = headers.authorization
  if (authorization !== undefined) {
    const match = BEARER.exec(authorization)
    if (match !== null) return { via: 'bearer', token: match[1]! }
  }
  const cookieHeader = headers.cookie
  if (cookieHeader !== undefined && cookieHeader.includes(cookieName)) {
    const token = parseCookies(cookieHeader)[cookieName]
    if (token !== undefined && token.length > 0) return { via: 'cookie', token }
  }
  return undefined
}
