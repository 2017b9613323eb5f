import { SignJWT } from 'jose'
import { LRUCache } from 'lru-cache'
import { upTo } from '../bounded-cache.js'

export interface SigningKey {
  /** The authentication key's ID from the Agent Studio dashboard: the JWT `kid`. */
  readonly keyId: string
  /** The `sk-alg-…` authentication key: the HS256 secret. */
  readonly secret: string
}

export interface UserTokenMinterOptions {
  readonly key: SigningKey
  readonly ttlSeconds: number
  /** Most users whose token is kept; beyond it the least recently active are re-signed on return. */
  readonly maxCachedUsers?: number
  /** Injectable clock (milliseconds), for tests. */
  readonly now?: () => number
}

interface CachedToken {
  readonly token: string
  /** When to sign a fresh one: well before `exp`, so an in-flight request never carries a dying token. */
  readonly refreshAt: number
}

/**
 * Mints the per-user `X-Algolia-Secure-User-Token` (HS256, header `kid`, claims `sub`, `iat`,
 * `exp`: nothing else, since the payload is readable by anyone who sees it) and keeps it per
 * user, so steady traffic signs about once per user per TTL.
 */
export class UserTokenMinter {
  #key: { keyId: string; secret: Uint8Array }
  readonly #ttlSeconds: number
  readonly #refreshMarginMs: number
  readonly #now: () => number
  readonly #cache: LRUCache<string, CachedToken>

  constructor(options: UserTokenMinterOptions) {
    this.#key = importKey(options.key)
    this.#ttlSeconds = options.ttlSeconds
    // Re-sign when a tenth of the lifetime (at least 30 s) is left.
    this.#refreshMarginMs = Math.max(30_000, options.ttlSeconds * 100)
    this.#now = options.now ?? Date.now
    this.#cache = new LRUCache({ ...upTo(options.maxCachedUsers ?? 100_000) })
  }

  get keyId(): string {
    return this.#key.keyId
  }

  async tokenFor(userId: string): Promise<string> {
    const now = this.#now()
    const cached = this.#cache.get(userId)
    if (cached !== undefined && now < cached.refreshAt) return cached.token
    const issuedAt = Math.floor(now / 1000)
    const expiresAt = issuedAt + this.#ttlSeconds
    const key = this.#key
    const token = await new SignJWT({ sub: userId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: key.keyId })
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(key.secret)
    // A rotation that happened while signing must not let an old-key token into the cache.
    if (key === this.#key) this.#cache.set(userId, { token, refreshAt: expiresAt * 1000 - this.#refreshMarginMs })
    return token
  }

  /** Sign with a new key from now on and forget every token signed with the old one. */
  rotate(key: SigningKey): void {
    this.#key = importKey(key)
    this.#cache.clear()
  }
}

function importKey(key: SigningKey) {
  return { keyId: key.keyId, secret: new TextEncoder().encode(key.secret) }
}
