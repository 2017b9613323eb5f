import type { CompatibilityMode, PolicyConfig } from '../config/types.js'
import { InvalidQuery } from '../errors.js'
import { upstreamCache } from './upstream-cache.js'

export interface CompletionQuery {
  readonly mode: CompatibilityMode
  /** The exact query string sent upstream, leading "?" included. */
  readonly upstreamQuery: string
}

/** What the cache rule decided for this request (cache-safety.ts); absent: the cache policy alone decides. */
export interface CacheDecision {
  readonly useCache: boolean
  readonly forceMemoryOff: boolean
}

export type CompletionQueryPolicy = (query: Record<string, unknown>, trigger?: unknown, cache?: CacheDecision) => CompletionQuery

/**
 * The browser chooses the protocol (`compatibilityMode`), whether to stream, and may turn
 * memory off; it may bypass the cache for one answer if ops let it (see upstream-cache.ts).
 * `analytics` is pinned by ops. Every other parameter is dropped.
 */
export function buildCompletionQueryPolicy(policy: PolicyConfig): CompletionQueryPolicy {
  const modes = new Set<string>(policy.compatibilityModes)
  const modeList = policy.compatibilityModes.join(', ')
  const analytics = `&analytics=${policy.upstreamAnalytics}`

  return function completionQuery(query, trigger, cache = { useCache: true, forceMemoryOff: false }) {
    const mode = query.compatibilityMode
    if (typeof mode !== 'string' || !modes.has(mode)) {
      throw new InvalidQuery(`compatibilityMode must be one of ${modeList}`)
    }
    let upstreamQuery = `?compatibilityMode=${mode}`
    const stream = query.stream
    if (stream !== undefined) {
      if (stream !== 'true' && stream !== 'false') throw new InvalidQuery('stream must be true or false')
      upstreamQuery += `&stream=${stream}`
    }
    const memory = query.memory
    if (memory !== undefined) {
      if (memory !== 'false' && memory !== 'true') throw new InvalidQuery('memory must be false (or true, the default)')
    }
    if (memory === 'false' || cache.forceMemoryOff) upstreamQuery += '&memory=false'
    upstreamQuery += `&cache=${upstreamCache(policy, query.cache, trigger, cache.useCache)}`
    return { mode: mode as CompatibilityMode, upstreamQuery: upstreamQuery + analytics }
  }
}
