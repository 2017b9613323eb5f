import { createPublicKey, webcrypto, type KeyObject } from 'node:crypto'
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify } from 'jose'
import { LRUCache } from 'lru-cache'
import { upTo } from '../bounded-cache.js'
import type { JWTVerifyGetKey, JWTVerifyOptions } from 'jose'
import type { JwtSessionConfig } from '../config/types.js'
import { SessionInvalid, SessionUnavailable } from '../errors.js'
import { normaliseUserId } from './types.js'

export interface VerifiedSession {
  readonly id: string
  readonly claims: Readonly<Record<string, unknown>>
}

export type SessionTokenVerifier = (token: string) => Promise<VerifiedSession>

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512']
const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
const EC_ALGORITHMS: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }
/** With a public key or JWKS, only asymmetric algorithms: an HMAC token "signed" with the public key must fail. */
const ASYMMETRIC_ALGORITHMS = [...RSA_ALGORITHMS, 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']

export interface JwtVerifierOptions {
  /** Injectable clock for tests. */
  readonly now?: () => Date
  /** Told when a JWKS fetch fails and cached keys were used instead. */
  readonly onJwksFallback?: (error: unknown) => void
}

/** Builds, once, the verifier for the app's session JWT: key imported and algorithms pinned here. */
export function buildJwtVerifier(config: JwtSessionConfig, options: JwtVerifierOptions = {}): SessionTokenVerifier {
  const { key, algorithms } = resolveKey(config, options)
  const claim = config.userIdClaim
  const baseOptions: JWTVerifyOptions = {
    algorithms,
    clockTolerance: config.clockToleranceSeconds,
    requiredClaims: ['exp', claim],
    ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
    ...(config.audience === undefined ? {} : { audience: config.audience })
  }
  const now = options.now
  const clock = () => (now === undefined ? Date.now() : now().getTime())
  const toleranceMs = config.clockToleranceSeconds * 1000
  const maxAgeMs = config.maxAgeSeconds * 1000
  // A browser sends the same session token on every request. Remember the ones verified
  // recently (keyed by the whole token, bounded, at most a minute) so a signature is checked
  // about once a minute per user instead of per request; exp and nbf are still enforced
  // against the clock on every hit.
  const verified = new LRUCache<string, VerifiedSession & { exp: number; nbf: number }>({ ...upTo(10_000), ttl: 60_000, ttlAutopurge: false })

  return async function verifySessionToken(token) {
    const cached = verified.get(token)
    if (cached !== undefined) {
      const at = clock()
      if (at - toleranceMs < cached.exp && at + toleranceMs >= cached.nbf) return cached
      verified.delete(token)
    }
    let payload: Record<string, unknown>
    try {
      const verifyOptions = now === undefined ? baseOptions : { ...baseOptions, currentDate: now() }
      const result = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], verifyOptions)
      payload = result.payload
    } catch (error) {
      if (error instanceof JwksUnavailableError) throw new SessionUnavailable()
      throw new SessionInvalid({ cause: error })
    }
    // A token valid until the year 9999 is a stolen token valid forever: however it was signed,
    // no session lasts longer than SESSION_MAX_AGE_SECONDS from now (issue 11).
    if ((payload.exp as number) * 1000 - clock() > maxAgeMs + toleranceMs) {
      throw new SessionInvalid({ cause: new Error(`exp is more than SESSION_MAX_AGE_SECONDS (${config.maxAgeSeconds}) ahead`) })
    }
    const id = normaliseUserId(payload[claim])
    if (id === undefined) throw new SessionInvalid({ cause: new Error(`claim ${claim} is not a usable user id`) })
    const session = { id, claims: payload, exp: (payload.exp as number) * 1000, nbf: typeof payload.nbf === 'number' ? payload.nbf * 1000 : 0 }
    verified.set(token, session)
    return session
  }
}

function resolveKey(config: JwtSessionConfig, options: JwtVerifierOptions): { key: Uint8Array | KeyObject | JWTVerifyGetKey; algorithms: string[] } {
  const source = config.key
  switch (source.type) {
    case 'secret':
      return { key: hmacKeys(source.secret), algorithms: HMAC_ALGORITHMS }
    case 'public-key': {
      const key = createPublicKey(source.pem)
      return { key, algorithms: algorithmsForPublicKey(key) }
    }
    case 'jwks':
      return {
        key: resilientJwks(source.url, source, options.onJwksFallback),
        algorithms: ASYMMETRIC_ALGORITHMS
      }
  }
}

function algorithmsForPublicKey(key: KeyObject): string[] {
  const details = key.asymmetricKeyDetails
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA_ALGORITHMS
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512']
    case 'ec': {
      const algorithm = EC_ALGORITHMS[details?.namedCurve ?? '']
      if (algorithm === undefined) throw new Error(`unsupported EC curve ${details?.namedCurve}`)
      return [algorithm]
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519']
    default:
      throw new Error(`unsupported public key type ${key.asymmetricKeyType}`)
  }
}

/**
 * jose imports a raw secret into a WebCrypto key on every verification, which costs more than
 * the HMAC itself; import once per algorithm instead. (The algorithm is already pinned by
 * `algorithms`, so the header only selects among the allowed ones.)
 */
function hmacKeys(secret: Uint8Array): JWTVerifyGetKey {
  const keys = new Map<string, Promise<webcrypto.CryptoKey>>()
  for (const alg of HMAC_ALGORITHMS) {
    const hash = `SHA-${alg.slice(2)}`
    keys.set(alg, webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash }, false, ['verify']))
  }
  return (header) => keys.get(header.alg) ?? Promise.reject(new errors.JOSEAlgNotAllowed('algorithm not allowed'))
}

class JwksUnavailableError extends Error {}

/**
 * jose's remote JWKS caches keys, refreshes when an unknown `kid` shows up (rate-limited by the
 * cooldown) and when the cache is older than cacheMaxAge. If a refresh fails because the
 * endpoint is down, users whose key we already hold must keep working: fall back to the last
 * keys fetched. An unknown `kid` with a reachable endpoint stays a plain verification failure.
 */
function resilientJwks(
  url: URL,
  source: { cooldownMs: number; cacheMaxAgeMs: number; timeoutMs: number },
  onFallback?: (error: unknown) => void
): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url, {
    cooldownDuration: source.cooldownMs,
    cacheMaxAge: source.cacheMaxAgeMs,
    timeoutDuration: source.timeoutMs
  })
  // While the endpoint is known to be down, don't make every request wait for its timeout.
  const retryAfterMs = Math.max(source.cooldownMs, 1000)
  let fallback: { getKey: JWTVerifyGetKey; until: number } | undefined
  return async function getKey(header, token) {
    if (fallback !== undefined && Date.now() < fallback.until) return fallback.getKey(header, token)
    try {
      const key = await remote(header, token)
      fallback = undefined
      return key
    } catch (error) {
      if (!isFetchFailure(error)) throw error
      const lastKnown = remote.jwks()
      if (lastKnown === undefined) throw new JwksUnavailableError('JWKS endpoint unreachable and no keys cached', { cause: error })
      onFallback?.(error)
      fallback = { getKey: createLocalJWKSet(lastKnown), until: Date.now() + retryAfterMs }
      return fallback.getKey(header, token)
    }
  }
}

function isFetchFailure(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout) return true
  if (error instanceof errors.JWKSInvalid) return true
  // fetch() rejects with a TypeError on network errors; jose wraps non-200 answers in a generic JOSEError.
  if (error instanceof TypeError) return true
  return error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC'
}
