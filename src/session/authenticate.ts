import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'
import type { SessionConfig } from '../config/types.js'
import { SessionRequired } from '../errors.js'
import { checkCookieOrigin } from '../policy/origin-check.js'
import type { OriginRules } from '../policy/origin-check.js'
import { buildForwardAuth } from './forward-auth.js'
import { buildJwtVerifier } from './jwt-verifier.js'
import type { JwtVerifierOptions } from './jwt-verifier.js'
import { readCredential, sessionCookieOnly } from './read-credential.js'
import type { SessionCredential, SessionUser } from './types.js'
import { tenantScopedUserId } from './tenant.js'

/**
 * `protocol` and `host`: the scheme and host the request reached the gateway by (Fastify's
 * request.protocol and request.host: X-Forwarded-Proto/-Host from TRUSTED_PROXIES only);
 * `host` defaults to the Host header.
 */
export type Authenticate = (headers: IncomingHttpHeaders, protocol: 'http' | 'https', host?: string) => Promise<SessionUser>

export interface AuthenticateDependencies extends JwtVerifierOptions {
  readonly dispatcher: Dispatcher
}

/**
 * The first step of every browser request: find the credential, apply the CSRF origin rule
 * to cookie sessions (before spending anything on verification), then verify it.
 */
export function buildAuthenticator(session: SessionConfig, originRules: OriginRules, deps: AuthenticateDependencies): Authenticate {
  const verify =
    session.kind === 'jwt'
      ? (() => {
          const verifyToken = buildJwtVerifier(session, deps)
          return (_headers: IncomingHttpHeaders, credential: SessionCredential) => verifyToken(credential.token)
        })()
      : (() => {
          const forwardAuth = buildForwardAuth(session, deps.dispatcher)
          // Only the chosen credential: a bearer session must not be signed in by a cookie that
          // skipped the origin check (issue 11), and of a cookie session only its cookie (issue 19).
          return (headers: IncomingHttpHeaders, credential: SessionCredential) =>
            forwardAuth(credential.via === 'bearer' ? { authorization: headers.authorization } : { cookie: sessionCookieOnly(headers, session.cookieName) })
        })()

  return async function authenticate(headers, protocol, host) {
    const credential = readCredential(headers, session.cookieName)
    if (credential === undefined) throw new SessionRequired()
    if (credential.via === 'cookie') checkCookieOrigin(headers, originRules, protocol, host ?? headers.host)
    const verified = await verify(headers, credential)
    return { id: tenantScopedUserId(verified.id, verified.claims, session.tenantClaim), via: credential.via, claims: verified.claims }
  }
}
