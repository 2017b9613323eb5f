import type { AnswerPlan } from './answer-plan.js'

/**
 * Agent Studio's completion cache, as the stand-in models it (Algolia docs, Agent Studio
 * "Caching"; the `cache` query parameter of specs/agent-studio/paths/agents/agentCompletions.yml,
 * "Use cached responses if available", default true):
 * - the key is the messages (text trimmed, casing normalised), the agent's configuration and its
 *   tools: NOT the user token and NOT the API key. The stand-in's agent configuration and tools
 *   are fixed per agent id, so the agent id stands for them;
 * - only a conversation's first message is cached: a request with 2 or more messages bypasses it;
 * - streamed and non-streamed requests share entries (the plan is cached; each mode renders it);
 * - `cache=false` turns the cache off for the request: it neither reads nor stores an entry.
 * Reported in `X-Cache: HIT|MISS` and `Cache-Status: AgentStudio; hit` / `AgentStudio; fwd=miss`;
 * for a request that does not use the cache the stand-in says `fwd=bypass` (RFC 9211 §2.2), since
 * Algolia does not document that case.
 *
 * Because the user token is not in the key, a first answer shaped by one user's memory is served
 * to anyone who asks the same first question with the cache on: the danger the gateway's cache
 * rule (src/policy/cache-safety.ts) exists for, and which test/policy/cache-safety.test.ts shows here.
 */
export interface CacheLookup {
  readonly plan: AnswerPlan
  readonly headers: Record<string, string>
}

const BYPASS = { 'x-cache': 'MISS', 'cache-status': 'AgentStudio; fwd=bypass' }

export class ResponseCache {
  private readonly answers = new Map<string, AnswerPlan>()

  /** `key` undefined: the request is not cacheable (2+ messages). */
  answer(key: string | undefined, useCache: boolean, fresh: () => AnswerPlan): CacheLookup {
    if (!useCache || key === undefined) return { plan: fresh(), headers: BYPASS }
    const cached = this.answers.get(key)
    if (cached !== undefined) return { plan: cached, headers: { 'x-cache': 'HIT', 'cache-status': 'AgentStudio; hit' } }
    const plan = fresh()
    this.answers.set(key, plan)
    if (this.answers.size > 1000) this.answers.delete(this.answers.keys().next().value!)
    return { plan, headers: { 'x-cache': 'MISS', 'cache-status': 'AgentStudio; fwd=miss' } }
  }
}

/** The documented key, or undefined for a request past a conversation's first message. */
export function cacheKey(agentId: string, messages: readonly unknown[]): string | undefined {
  if (messages.length !== 1) return undefined
  return JSON.stringify([agentId, messages.map(normalised)])
}

function normalised(message: unknown): unknown {
  const { role, content, parts } = (message ?? {}) as { role?: unknown; content?: unknown; parts?: unknown }
  const text =
    typeof content === 'string'
      ? content
      : Array.isArray(parts)
        ? parts.map((part: { type?: unknown; text?: unknown }) => (part?.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('')
        : ''
  return [role, text.trim().toLowerCase()]
}
