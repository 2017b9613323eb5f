import type { IncomingHttpHeaders } from 'node:http'
import type { GatewayConfig, SearchKeyConfig } from '../config/types.js'
import { buildAgentKeyCache, buildSecuredKeyIssuer } from '../keys/secured-keys.js'
import type { AgentKeyCache, IssuedSearchKey } from '../keys/secured-keys.js'
import type { SessionUser } from '../session/types.js'
import { buildUpstreamRequestHeaders } from './header-boundary.js'
import { UserTokenMinter } from './user-token.js'
import type { SigningKey } from './user-token.js'

/** The Algolia secrets that can change while the gateway runs (SIGHUP re-reads their `*_FILE` files). */
export interface SecretSet {
  readonly apiKey: string
  /** Undefined when POST /search-key is off (it never falls back to the API key). */
  readonly searchKey: string | undefined
  readonly signingKey: SigningKey
}

export interface CredentialsOptions {
  readonly appId: string
  readonly secrets: SecretSet
  readonly userTokenTtlSeconds: number
  readonly searchKey: SearchKeyConfig
  /** Injectable clock (milliseconds) for the user token, for tests. */
  readonly now?: () => number
}

/** Who is calling: the browser's headers (the header boundary picks from them) and the session's user. */
export interface Caller {
  readonly headers: IncomingHttpHeaders
  readonly user: SessionUser
}

/** What a route tells about its upstream call; everything else is decided here. */
export interface UpstreamCall {
  /** Send the caller's user token. Every call does but conversation DELETE, which Agent Studio takes without one. */
  readonly userToken: boolean
  /** The call carries a JSON body (the gateway's own, rebuilt), so `content-type` is set. */
  readonly jsonBody: boolean
  /**
   * The call runs the agent (completions): with AGENT_TENANT_ISOLATION its own searches get
   * the user's Secured API Key (same indices and filters as POST /search-key) instead of
   * ALGOLIA_API_KEY. Ignored when isolation is off.
   */
  readonly agentKey?: boolean
  /** The upstream `Origin` from configuration (the agent's approved domain), never the browser's. */
  readonly origin?: string | undefined
}

export interface Rotation {
  /** Names of what changed (never the values), for the "secrets reloaded" log line. */
  readonly changed: string[]
  readonly userTokenKeyId: string
}

/**
 * Everything that leaves with an upstream request, in one object: the app id, the API key (or
 * the user's derived agent key), the minted user token, through the one header boundary.
 * Routes say what their call is (`headersFor`); they never put credentials together
 * themselves, so a rotation reaches every route at once.
 *
 * The secrets are read per request (never copied into a closure): `rotate` (SIGHUP) swaps them
 * for the next request, re-keys the minter (which forgets every token signed with the old key)
 * and drops every key derived from an old parent.
 */
export class Credentials {
  readonly appId: string
  #secrets: SecretSet
  readonly #minter: UserTokenMinter
  readonly #agentKeys: AgentKeyCache | undefined
  readonly #issueSearchKey: (user: SessionUser) => IssuedSearchKey

  constructor(options: CredentialsOptions) {
    this.appId = options.appId
    this.#secrets = options.secrets
    this.#minter = new UserTokenMinter({
      key: options.secrets.signingKey,
      ttlSeconds: options.userTokenTtlSeconds,
      ...(options.now === undefined ? {} : { now: options.now })
    })
    // AGENT_TENANT_ISOLATION: derived from the API key, cached per user like the user token.
    this.#agentKeys = options.searchKey.agentTenantIsolation
      ? buildAgentKeyCache({ appId: this.appId, parentKey: () => this.#secrets.apiKey, config: options.searchKey })
      : undefined
    // The browser's keys (POST /search-key) derive from the search-only key, never from the API key.
    this.#issueSearchKey = buildSecuredKeyIssuer({ appId: this.appId, parentKey: () => this.#searchKeyParent(), config: options.searchKey })
  }

  /** The signing key's id in force (the user token's `kid`). */
  get userTokenKeyId(): string {
    return this.#secrets.signingKey.keyId
  }

  /** The headers this call sends upstream: the browser's harmless few, then the gateway's credentials. */
  async headersFor(caller: Caller, call: UpstreamCall): Promise<Record<string, string>> {
    const userToken = call.userToken ? await this.#minter.tokenFor(caller.user.id) : undefined
    // Read after the await: a rotation while the token was signed still sends the new key.
    const apiKey = call.agentKey === true && this.#agentKeys !== undefined ? this.#agentKeys.keyFor(caller.user) : this.#secrets.apiKey
    return buildUpstreamRequestHeaders(caller.headers, { appId: this.appId, apiKey, userToken }, call.jsonBody, { origin: call.origin })
  }

  /** A Secured API Key for the user's own InstantSearch (POST /search-key). */
  searchKeyFor(user: SessionUser): IssuedSearchKey {
    return this.#issueSearchKey(user)
  }

  /** Applies a re-read set (SIGHUP); reports the names of what changed, never the values. */
  rotate(next: SecretSet): Rotation {
    const changed: string[] = []
    const previous = this.#secrets
    if (next.apiKey !== previous.apiKey) changed.push('ALGOLIA_API_KEY')
    if (next.searchKey !== previous.searchKey) changed.push('ALGOLIA_SEARCH_KEY')
    const signingChanged = next.signingKey.keyId !== previous.signingKey.keyId || next.signingKey.secret !== previous.signingKey.secret
    if (signingChanged) changed.push('ALGOLIA_KEY_ID/ALGOLIA_SECRET_KEY')
    this.#secrets = next
    if (signingChanged) this.#minter.rotate(next.signingKey)
    // A changed parent invalidates every key derived from it.
    if (changed.length > 0) this.#agentKeys?.clear()
    return { changed, userTokenKeyId: this.userTokenKeyId }
  }

  #searchKeyParent(): string {
    const parent = this.#secrets.searchKey
    // Unreachable: POST /search-key is registered only with ALGOLIA_SEARCH_KEY set, and a reload
    // that drops it is rejected while the route is served.
    if (parent === undefined) throw new Error('POST /search-key is off: ALGOLIA_SEARCH_KEY is not set')
    return parent
  }
}

/** The credentials a configuration starts with. */
export function credentialsFromConfig(config: GatewayConfig, now?: () => number): Credentials {
  const { algolia } = config
  return new Credentials({
    appId: algolia.appId,
    secrets: { apiKey: algolia.apiKey, searchKey: algolia.searchKey, signingKey: { keyId: algolia.keyId, secret: algolia.secretKey } },
    userTokenTtlSeconds: config.userToken.ttlSeconds,
    searchKey: config.searchKey,
    ...(now === undefined ? {} : { now })
  })
}
