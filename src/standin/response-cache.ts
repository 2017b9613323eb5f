import type { AnswerPlan } from './answer-plan.js'

/**
 * Agent Studio's completion cache, as the stand-in models it: an answer is reused for the same
 * agent, mode and messages unless the request says `cache=false` (the query parameter in
 * Algolia's spec, default true; InstantSearch sends `cache=false` when regenerating). Agent
 * Studio reports it in `X-Cache: HIT|MISS` and `Cache-Status: AgentStudio; hit` /
 * `AgentStudio; fwd=miss`; for a bypassed lookup we send `fwd=bypass` (RFC 9211 §2.2), since
 * Algolia does not document that case. A bypass still stores the fresh answer.
 */
export interface CacheLookup {
  readonly plan: AnswerPlan
  readonly headers: Record<string, string>
}

export class ResponseCache {
  private readonly answers = new Map<string, AnswerPlan>()

  answer(key: string, useCache: boolean, fresh: () => AnswerPlan): CacheLookup {
    const cached = useCache ? this.answers.get(key) : undefined
    if (cached !== undefined) return { plan: cached, headers: { 'x-cache': 'HIT', 'cache-status': 'AgentStudio; hit' } }
    const plan = fresh()
    this.answers.set(key, plan)
    if (this.answers.size > 1000) this.answers.delete(this.answers.keys().next().value!)
    return { plan, headers: { 'x-cache': 'MISS', 'cache-status': useCache ? 'AgentStudio; fwd=miss' : 'AgentStudio; fwd=bypass' } }
  }
}

export function cacheKey(agentId: string, mode: string, stream: boolean, messages: unknown): string {
  return JSON.stringify([agentId, mode, stream, messages])
}
