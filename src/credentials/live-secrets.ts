import type { UpstreamCredentials } from './header-boundary.js'
import type { SigningKey, UserTokenMinter } from './user-token.js'

export interface SecretSet {
  readonly apiKey: string
  /** Undefined when POST /search-key is off (it never falls back to the API key). */
  readonly searchKey: string | undefined
  readonly signingKey: SigningKey
}

/**
 * The Algolia secrets in force. Read per request (never copied into a closure), so a reload
 * (SIGHUP, after the `*_FILE` files changed) swaps them for the next request: the user-token
 * key is rotated in the minter, which forgets every token signed with the old one.
 */
export class LiveSecrets {
  readonly appId: string
  #current: SecretSet
  readonly #minter: UserTokenMinter
  readonly #listeners: Array<() => void> = []

  constructor(appId: string, initial: SecretSet, minter: UserTokenMinter) {
    this.appId = appId
    this.#current = initial
    this.#minter = minter
  }

  get apiKey(): string {
    return this.#current.apiKey
  }

  get searchKey(): string | undefined {
    return this.#current.searchKey
  }

  get keyId(): string {
    return this.#current.signingKey.keyId
  }

  /** What leaves for Agent Studio: the app id, an API key (the plain one unless given), the user's token. */
  credentials(userToken: string | undefined, apiKey: string = this.#current.apiKey): UpstreamCredentials {
    return { appId: this.appId, apiKey, userToken }
  }

  /** Called when derived material (cached secured keys) must be dropped after a change. */
  onChange(listener: () => void): void {
    this.#listeners.push(listener)
  }

  /** Applies a re-read set; returns the names of what changed (never the values). */
  update(next: SecretSet): string[] {
    const changed: string[] = []
    const previous = this.#current
    if (next.apiKey !== previous.apiKey) changed.push('ALGOLIA_API_KEY')
    if (next.searchKey !== previous.searchKey) changed.push('ALGOLIA_SEARCH_KEY')
    const signingChanged = next.signingKey.keyId !== previous.signingKey.keyId || next.signingKey.secret !== previous.signingKey.secret
    if (signingChanged) changed.push('ALGOLIA_KEY_ID/ALGOLIA_SECRET_KEY')
    this.#current = next
    if (signingChanged) this.#minter.rotate(next.signingKey)
    if (changed.length > 0) for (const listener of this.#listeners) listener()
    return changed
  }
}
