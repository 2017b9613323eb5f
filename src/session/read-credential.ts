import { parse as parseCookies } from 'cookie'
import type { IncomingHttpHeaders } from 'node:http'
import type { SessionCredential } from './types.js'

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i

/**
 * The session credential the browser sent. A bearer token wins over a cookie: it cannot be
 * attached by a cross-site page, so when both are present the safer one decides.
 */
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
