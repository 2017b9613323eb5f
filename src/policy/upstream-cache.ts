import type { PolicyConfig } from '../config/types.js'
import { InvalidQuery } from '../errors.js'

/**
 * The `cache` query parameter sent upstream. Agent Studio caches answers by agent and messages;
 * a regenerate resends the same history, so with the cache on it would get the same answer
 * back. InstantSearch's chat sends `cache=false` on `trigger: "regenerate-message"`, and the
 * AI SDK's `regenerate()` sends that trigger, so (issue 10):
 * - an agent whose answers may be personal (cache-safety.ts, `mayUseCache` false): never cached;
 * - `UPSTREAM_CACHE=false`: never cached;
 * - `UPSTREAM_CACHE_POLICY=pinned`: always `UPSTREAM_CACHE`, whatever the browser asks;
 * - `UPSTREAM_CACHE_POLICY=browser-may-bypass` (default): the browser may turn it off for one
 *   request, with `cache=false` or a regenerate trigger; it can never turn it on.
 */
export function upstreamCache(policy: PolicyConfig, queryCache: unknown, trigger: unknown, mayUseCache = true): boolean {
  if (queryCache !== undefined && queryCache !== 'true' && queryCache !== 'false') throw new InvalidQuery('cache must be true or false')
  // Issue 23: an answer that may be personal never uses the shared cache (cache-safety.ts).
  if (!policy.upstreamCache || !mayUseCache) return false
  if (policy.upstreamCachePolicy === 'pinned') return true
  return !(queryCache === 'false' || trigger === 'regenerate-message')
}
