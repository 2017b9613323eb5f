import { createPublicKey } from 'node:crypto'
import type { ReadVariable } from './environment.js'
import type { Settings } from './settings.js'
import type { SessionConfig, SessionKey } from './types.js'
import { parseHttpUrl } from './urls.js'

/** How a session is checked: exactly one of these is set (environment only). */
export const SESSION_METHODS = ['SESSION_JWT_SECRET', 'SESSION_JWT_PUBLIC_KEY', 'SESSION_JWKS_URL', 'SESSION_INTROSPECT_URL'] as const
type SessionMethod = (typeof SESSION_METHODS)[number]

export function resolveSession(read: ReadVariable, settings: Settings, problems: string[], warnings: string[], production: boolean): SessionConfig | undefined {
  const chosen = SESSION_METHODS.filter((name) => read(name) !== undefined)
  if (chosen.length > 1) {
    problems.push(`session: set only one of ${SESSION_METHODS.join(', ')} (found ${chosen.join(', ')})`)
    return undefined
  }
  const method = chosen[0]
  const value = method === undefined ? undefined : read(method)
  if (method === undefined || value === undefined) {
    problems.push(`session: set one of ${SESSION_METHODS.join(', ')}${production ? ' (NODE_ENV=production)' : ''}`)
    return undefined
  }
  const s = settings.session
  if (method === 'SESSION_INTROSPECT_URL') {
    const url = parseHttpUrl(value, method, problems, production)
    if (url === undefined) return undefined
    return {
      kind: 'introspect',
      url,
      timeoutMs: s.introspectTimeoutMs,
      cacheTtlMs: s.introspectCacheSeconds * 1000,
      cacheMax: s.introspectCacheMax,
      cookieName: s.cookieName,
      tenantClaim: s.tenantClaim
    }
  }
  const key = sessionKey(method, value, s, problems, production)
  if (key === undefined) return undefined
  // Issue 11: an identity provider signs tokens for many APIs and clients with the same keys;
  // without audience and issuer, a token it issued for another one is accepted here. (A shared
  // secret is this app's alone, so it is exempt.)
  if (key.type !== 'secret') {
    for (const name of ['SESSION_JWT_ISSUER', 'SESSION_JWT_AUDIENCE']) {
      if (read(name) !== undefined) continue
      const message = `${name}: required with ${method}, or a token the identity provider issued for another API or client is accepted`
      if (production) problems.push(`${message} (NODE_ENV=production)`)
      else warnings.push(`${message} (refused under NODE_ENV=production)`)
    }
  }
  return {
    kind: 'jwt',
    key,
    issuer: read('SESSION_JWT_ISSUER'),
    audience: read('SESSION_JWT_AUDIENCE'),
    userIdClaim: s.userIdClaim,
    maxAgeSeconds: s.maxAgeSeconds,
    clockToleranceSeconds: s.clockToleranceSeconds,
    cookieName: s.cookieName,
    tenantClaim: s.tenantClaim
  }
}

/** Imports the key once, at start, so a malformed one stops the gateway instead of every request. */
function sessionKey(
  method: Exclude<SessionMethod, 'SESSION_INTROSPECT_URL'>,
  value: string,
  s: Settings['session'],
  problems: string[],
  production: boolean
): SessionKey | undefined {
  if (method === 'SESSION_JWT_SECRET') {
    const secret = new TextEncoder().encode(value)
    // RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
    if (secret.length < 32 && production) problems.push('SESSION_JWT_SECRET: use at least 32 bytes (RFC 7518 §3.2)')
    return { type: 'secret', secret }
  }
  if (method === 'SESSION_JWT_PUBLIC_KEY') {
    // Environment variables often carry PEM with literal "\n" sequences.
    const pem = value.includes('\\n') ? value.replace(/\\n/g, '\n') : value
    try {
      const key = createPublicKey(pem)
      if (key.type !== 'public') throw new Error('not public')
    } catch {
      problems.push('SESSION_JWT_PUBLIC_KEY: not a PEM-encoded public key (-----BEGIN PUBLIC KEY-----)')
      return undefined
    }
    return { type: 'public-key', pem }
  }
  const url = parseHttpUrl(value, method, problems, production)
  if (url === undefined) return undefined
  return {
    type: 'jwks',
    url,
    cooldownMs: s.jwksCooldownSeconds * 1000,
    cacheMaxAgeMs: s.jwksCacheMaxAgeSeconds * 1000,
    timeoutMs: s.jwksTimeoutMs
  }
}
