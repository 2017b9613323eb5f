import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'
import type { SessionConfig } from '../config/types.js'
import { SessionRequired } from '../errors.js'
import { checkCookieOrigin } from '../policy/origin-check.js'
import type { OriginRules } from '../policy/origin-check.js'
import { buildForwardAuth } from './forward-auth.js'
import { buildJwtVerifier } from './jwt-verifier.js'
import type { JwtVerifierOptions } from './jwt-verifier.js'
import { readCredential } from './read-credential.js'
import { tenantScopedUserId } from './tenant.js'
import type { SessionUser } from './types.js'

export type Authenticate = (headers: IncomingHttpHeaders) => Promise<SessionUser>

export interface AuthenticateDependencies extends JwtVerifierOptions {
  readonly dispatcher: Dispatcher
}

/**
 * The first step of every browser request: find the credential, apply the CSRF origin rule
 * to cookie sessions (before spending anything on verification), then verify it.
 */
export function buildAuthenticator(session: SessionConfig, originRules: OriginRules, deps: AuthenticateDependencies): Authenticate {
  const verify = session.kind === 'jwt'
    ? (() => {
        const verifyToken = buildJwtVerifier(session, deps)
        return (_headers: IncomingHttpHeaders, token: string) => verifyToken(token)
      })()
    : (() => {
        const forwardAuth = buildForwardAuth(session, deps.dispatcher)
        return (headers: IncomingHttpHeaders) => forwardAuth(headers)
      })()

  return async function authenticate(headers) {
    const credential = readCredential(headers, session.cookieName)
    if (credential === undefined) throw new SessionRequired()
    if (credential.via === 'cookie') checkCookieOrigin(headers, originRules)
    const verified = await verify(headers, credential.token)
    return { id: tenantScopedUserId(verified.id, verified.claims, session.tenantClaim), via: credential.via, claims: verified.claims }
  }
}
