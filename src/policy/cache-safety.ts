import type { AgentCacheMode } from '../config/agents.js'

/**
 * Whether a completion may use Agent Studio's shared completion cache (issue 23, item 2).
 *
 * Algolia documents the cache key as the messages, the agent's configuration and its tools,
 * NOT the user token or the API key, applied to a conversation's first message (docs, Agent
 * Studio "Caching"). Memory loads at a conversation's start, per user (docs "Memory"); with
 * AGENT_TENANT_ISOLATION the agent searches with the user's own restrictions; `turnContext` and
 * `algolia.searchParameters`/`indices` are per-request context. Each shapes a first answer
 * without being in the key, so a cached first answer can carry one user's memory or one
 * tenant's results to another user who asks the same first question.
 *
 * The rule, per agent (`agents.<agentId>.cache`):
 * - `personal` (the default): the cache is never used (`cache=false` on every completion).
 *   Not "only when memory is on": Algolia does not document whether `cache=false` also skips
 *   storing the answer, and if it stores, a personal answer sent with `cache=false` would still
 *   be read by the next request that asks for the cache. An agent whose answers may be personal
 *   therefore never uses it, whatever any single request says.
 * - `shared`: ops declare the agent's answers identical for everyone. The gateway makes the
 *   declaration true for memory (it sends `memory=false`: no user's memory reaches a shared
 *   answer) and keeps the cache (UPSTREAM_CACHE, UPSTREAM_CACHE_POLICY) except for a request
 *   that carries per-request context (`turnContext`, `algolia.searchParameters`, `algolia.indices`),
 *   which no declaration about the agent can cover. `shared` with AGENT_TENANT_ISOLATION is a
 *   configuration problem (src/config/agents.ts): every answer is then per tenant.
 */
export type CacheVerdict =
  | { readonly useCache: true; readonly forceMemoryOff: true }
  | { readonly useCache: false; readonly forceMemoryOff: boolean; readonly reason: 'personal_agent' | 'turn_context' | 'search_restrictions' }

export interface CompletionContext {
  readonly messages: ReadonlyArray<Record<string, unknown>>
  readonly algolia?: { readonly searchParameters?: unknown; readonly indices?: unknown } | undefined
}

export function cacheVerdict(mode: AgentCacheMode, body: CompletionContext): CacheVerdict {
  if (mode === 'personal') return { useCache: false, forceMemoryOff: false, reason: 'personal_agent' }
  if (body.algolia?.searchParameters !== undefined || body.algolia?.indices !== undefined)
    return { useCache: false, forceMemoryOff: true, reason: 'search_restrictions' }
  if (body.messages.some(hasTurnContext)) return { useCache: false, forceMemoryOff: true, reason: 'turn_context' }
  return { useCache: true, forceMemoryOff: true }
}

/**
 * InstantSearch's per-turn context rides in a user message's `metadata.turnContext`
 * (instantsearch.js lib/chat/openChat.js); any non-empty `metadata` on a message is treated
 * alike, since it is the client's own per-request data.
 */
function hasTurnContext(message: Record<string, unknown>): boolean {
  const metadata = message.metadata
  return metadata !== null && typeof metadata === 'object' && Object.keys(metadata).length > 0
}
