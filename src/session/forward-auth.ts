import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { upTo } from '../bounded-cache.js'
import type { Dispatcher } from 'undici'
import type { IntrospectSessionConfig } from '../config/types.js'
import { SessionInvalid, SessionUnavailable } from '../errors.js'
import type { VerifiedSession } from './jwt-verifier.js'
import { normaliseUserId } from './types.js'
import { readBoundedText } from '../http/read-bounded.js'

/** The one credential the gateway chose (src/session/read-credential.ts), as the browser sent it. */
export interface ForwardedCredential {
  readonly cookie?: string | undefined
  readonly authorization?: string | undefined
}

export type ForwardAuth = (credential: ForwardedCredential) => Promise<VerifiedSession>

/** The session endpoint's answer is a small JSON object; more than this is not one. */
const SESSION_ANSWER_LIMIT_BYTES = 64 * 1024

/**
 * Forward-auth: the app's own session endpoint decides. Only the credential the gateway chose
 * is sent to it: the authorization header for a bearer session, the session cookie alone for a
 * cookie session (which passed the CSRF origin check), never both. Sending both let
 * `Authorization: Bearer junk` skip the origin check while the endpoint signed the caller in
 * by the cookie (issue 11). Positive answers are cached briefly, keyed by a hash
 * of the credential (the credential itself is never kept); concurrent lookups of one
 * credential share a single call. "No" is a 401; a slow or broken endpoint is a 503, so a
 * frontend does not sign its user out because the session service hiccuped.
 */
export function buildForwardAuth(config: IntrospectSessionConfig, dispatcher: Dispatcher): ForwardAuth {
  const origin = config.url.origin
  const path = `${config.url.pathname}${config.url.search}`

  async function introspect(cookie: string | undefined, authorization: string | undefined): Promise<VerifiedSession> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (cookie !== undefined) headers.cookie = cookie
    if (authorization !== undefined) headers.authorization = authorization
    let response: Dispatcher.ResponseData
    try {
      response = await dispatcher.request({
        origin,
        path,
        method: 'GET',
        headers,
        signal: AbortSignal.timeout(config.timeoutMs),
        headersTimeout: config.timeoutMs,
        bodyTimeout: config.timeoutMs
      })
    } catch (error) {
      throw new SessionUnavailable({ cause: error })
    }
    const { statusCode, body } = response
    if (statusCode === 401 || statusCode === 403) {
      await body.dump()
      throw new SessionInvalid()
    }
    if (statusCode !== 200) {
      await body.dump()
      throw new SessionUnavailable({ cause: new Error(`session endpoint answered ${statusCode}`) })
    }
    let answer: unknown
    try {
      answer = JSON.parse(await readBoundedText(body, SESSION_ANSWER_LIMIT_BYTES))
    } catch (error) {
      throw new SessionUnavailable({ cause: error })
    }
    const id = normaliseUserId((answer as { id?: unknown } | null)?.id)
    if (id === undefined) throw new SessionInvalid({ cause: new Error('session endpoint answered 200 without a usable "id"') })
    return { id, claims: answer as Record<string, unknown> }
  }

  if (config.cacheTtlMs === 0) {
    return (credential) => introspect(credential.cookie, credential.authorization)
  }

  const cache = new LRUCache<string, VerifiedSession, { cookie: string | undefined; authorization: string | undefined }>({
    ...upTo(config.cacheMax),
    ttl: config.cacheTtlMs,
    fetchMethod: (_key, _stale, { context }) => introspect(context.cookie, context.authorization)
  })

  return async (credential) => {
    const { cookie, authorization } = credential
    const key = createHash('sha256')
      .update(cookie ?? '')
      .update('\0')
      .update(authorization ?? '')
      .digest('base64url')
    const session = await cache.fetch(key, { context: { cookie, authorization } })
    return session!
  }
}
