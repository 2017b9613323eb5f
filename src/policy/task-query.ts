import type { PolicyConfig } from '../config/types.js'
import { InvalidQuery } from '../errors.js'
import { upstreamCache } from './upstream-cache.js'

/**
 * The tasks route's query (agentTasks.yml): `stream` (default false upstream; InstantSearch adds
 * `stream=true`), `cache` (the same policy as completions), `analytics` pinned by ops. Anything
 * else is dropped.
 */
export function taskQuery(policy: PolicyConfig, query: Record<string, unknown>): { stream: boolean; upstreamQuery: string } {
  const stream = query.stream
  if (stream !== undefined && stream !== 'true' && stream !== 'false') throw new InvalidQuery('stream must be true or false')
  const streaming = stream === 'true'
  return {
    stream: streaming,
    upstreamQuery: `?stream=${streaming}&cache=${upstreamCache(policy, query.cache, undefined)}&analytics=${policy.upstreamAnalytics}`
  }
}
