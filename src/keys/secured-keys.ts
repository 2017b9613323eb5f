import { searchClient } from '@algolia/client-search'
import { LRUCache } from 'lru-cache'
import { upTo } from '../bounded-cache.js'
import { renderFilters } from '../config/filter-template.js'
import type { SearchKeyConfig } from '../config/types.js'
import { SearchKeyUnavailable } from '../errors.js'
import type { SessionUser } from '../session/types.js'

export interface IssuedSearchKey {
  readonly apiKey: string
  /** Unix seconds. */
  readonly validUntil: number
  readonly indices: readonly string[]
}

export interface SecuredKeyIssuerOptions {
  readonly appId: string
  /** Read per key, so a reloaded parent takes effect at once. */
  readonly parentKey: () => string
  readonly config: SearchKeyConfig
  /** Injectable clock (milliseconds), for tests. */
  readonly now?: () => number
}

/**
 * Per-user Secured API Keys, derived with the official client's generateSecuredApiKey (no
 * hand-rolled HMAC). Restrictions the holder cannot remove: validUntil, restrictIndices, the
 * user's own userToken (Algolia's per-user rate limits and analytics), and the filters
 * template filled from the session's claims.
 */
export function buildSecuredKeyIssuer(options: SecuredKeyIssuerOptions) {
  const { parentKey, config } = options
  // The client only derives keys here (no request is made), so the key it is built with does not matter.
  const client = searchClient(options.appId, 'derive-only')
  const now = options.now ?? Date.now

  return function issue(user: SessionUser): IssuedSearchKey {
    const validUntil = Math.floor(now() / 1000) + config.ttlSeconds
    const restrictions: { validUntil: number; userToken: string; restrictIndices?: string[]; filters?: string } = { validUntil, userToken: user.id }
    if (config.indices.length > 0) restrictions.restrictIndices = [...config.indices]
    if (config.filters !== '') {
      const rendered = renderFilters(config.filters, user.claims)
      if ('missingClaim' in rendered) throw new SearchKeyUnavailable(rendered.missingClaim)
      restrictions.filters = rendered.filters
    }
    return { apiKey: client.generateSecuredApiKey({ parentApiKey: parentKey(), restrictions }), validUntil, indices: config.indices }
  }
}

/** Per-user keys for the agent's own searches, dropped whole when their parent changes. */
export interface AgentKeyCache {
  keyFor(user: SessionUser): string
  /** A rotated parent key invalidates every key derived from it. */
  clear(): void
}

/**
 * The same keys for the agent's own searches (AGENT_TENANT_ISOLATION), cached per user like
 * the user token and re-derived when a tenth of their validity is left.
 */
export function buildAgentKeyCache(options: SecuredKeyIssuerOptions): AgentKeyCache {
  const issue = buildSecuredKeyIssuer(options)
  const now = options.now ?? Date.now
  const marginSeconds = Math.max(30, Math.floor(options.config.ttlSeconds / 10))
  const cache = new LRUCache<string, IssuedSearchKey>({ ...upTo(100_000) })
  const template = options.config.filters
  return {
    keyFor(user) {
      // Keyed by what the restrictions depend on: a session with other claims gets its own key.
      const rendered = template === '' ? undefined : renderFilters(template, user.claims)
      const cacheKey = rendered !== undefined && 'filters' in rendered ? `${user.id}\u0000${rendered.filters}` : user.id
      const cached = cache.get(cacheKey)
      if (cached !== undefined && cached.validUntil - marginSeconds > now() / 1000) return cached.apiKey
      const issued = issue(user)
      cache.set(cacheKey, issued)
      return issued.apiKey
    },
    clear: () => cache.clear()
  }
}
