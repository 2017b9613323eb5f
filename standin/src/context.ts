import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { VerifiedUserToken } from './user-token-check.js'

/**
 * Agent Studio's context operations for long chats (Algolia's spec,
 * specs/agent-studio/paths/context/contextTrim.yml and contextCompact.yml, x-acl search):
 * - `POST /1/unstable/context/trim` (ContextTrimRequest: `messages` required, `keepLastMessages`,
 *   `maxTokensEstimate`, `dropToolParts`): deterministic, no LLM call; keep the last N, strip
 *   tool parts from what is kept, then drop the oldest until the token estimate fits.
 * - `POST /1/unstable/context/compact` (ContextCompactRequest: `providerID`, `model`, `messages`
 *   required; `keepLastMessages` default 4, `instructions` ≤ 2000, `targetTokensEstimate` ≥ 64):
 *   the older part becomes one user-role summary message followed by the kept tail; "Your
 *   provider runs the summary, so the provider adds the cost to your account".
 * Both answer a ContextResponse `{ messages, stats: ContextStats, compaction? }`. Token estimates
 * here are characters / 4 (Algolia's are tiktoken counts: heuristic either way). The stand-in
 * counts compactions per provider and model (`compactions`) so tests can see who was billed.
 */
type Authorize = (request: FastifyRequest, reply: FastifyReply, acl: string) => Promise<VerifiedUserToken | undefined | false>
type Record_ = (request: FastifyRequest, userToken: VerifiedUserToken | undefined) => void
type Problem = { loc: Array<string | number>; msg: string; type: string }

const TRIM_FIELDS = new Set(['messages', 'keepLastMessages', 'maxTokensEstimate', 'dropToolParts'])
const COMPACT_FIELDS = new Set(['providerID', 'model', 'messages', 'keepLastMessages', 'instructions', 'targetTokensEstimate'])

export function contextRoutes(app: FastifyInstance, authorize: Authorize, record: Record_, compactions: Array<{ providerID: string; model: string }>): void {
  app.post('/agent-studio/1/unstable/context/trim', async (request, reply) => {
    const token = await authorize(request, reply, 'search')
    if (token === false) return reply
    record(request, token)
    const body = (request.body ?? {}) as Record<string, unknown>
    const problems = [...commonProblems(body, TRIM_FIELDS), ...integerProblems(body, 'maxTokensEstimate', 0)]
    if (body.dropToolParts !== undefined && typeof body.dropToolParts !== 'boolean')
      problems.push({ loc: ['body', 'dropToolParts'], msg: 'Input should be a valid boolean', type: 'bool_type' })
    if (problems.length > 0) return reply.code(422).send({ detail: problems })
    const before = body.messages as unknown[]
    let kept = typeof body.keepLastMessages === 'number' ? before.slice(Math.max(0, before.length - body.keepLastMessages)) : [...before]
    if (body.dropToolParts === true) kept = kept.map(withoutToolParts)
    if (typeof body.maxTokensEstimate === 'number') {
      while (kept.length > 0 && tokens(kept) > body.maxTokensEstimate) kept = kept.slice(1)
    }
    return { messages: kept, stats: stats(before, kept) }
  })

  app.post('/agent-studio/1/unstable/context/compact', async (request, reply) => {
    const token = await authorize(request, reply, 'search')
    if (token === false) return reply
    record(request, token)
    const body = (request.body ?? {}) as Record<string, unknown>
    const problems = [...commonProblems(body, COMPACT_FIELDS), ...integerProblems(body, 'targetTokensEstimate', 64)]
    for (const field of ['providerID', 'model'])
      if (typeof body[field] !== 'string') problems.push({ loc: ['body', field], msg: 'Field required', type: 'missing' })
    if (body.instructions !== undefined && (typeof body.instructions !== 'string' || body.instructions.length > 2000))
      problems.push({ loc: ['body', 'instructions'], msg: 'String should have at most 2000 characters', type: 'string_too_long' })
    if (problems.length > 0) return reply.code(422).send({ detail: problems })
    const before = body.messages as unknown[]
    const keep = typeof body.keepLastMessages === 'number' ? body.keepLastMessages : 4
    if (before.length <= keep)
      return {
        messages: before,
        stats: stats(before, before),
        compaction: {
          compacted: false,
          chunksProcessed: 0,
          passes: 0,
          summarizerPromptTokens: null,
          summarizerCompletionTokens: null,
          targetTokensEstimate: body.targetTokensEstimate ?? null
        }
      }
    compactions.push({ providerID: body.providerID as string, model: body.model as string })
    const older = before.slice(0, before.length - keep)
    const summary = { role: 'user', parts: [{ type: 'text', text: `Summary of ${older.length} earlier messages (by ${String(body.model)}).` }] }
    const after = [summary, ...before.slice(before.length - keep)]
    return {
      messages: after,
      stats: stats(before, after),
      compaction: {
        compacted: true,
        chunksProcessed: 1,
        passes: 1,
        summarizerPromptTokens: tokens(older),
        summarizerCompletionTokens: 12,
        targetTokensEstimate: body.targetTokensEstimate ?? null
      }
    }
  })
}

function commonProblems(body: Record<string, unknown>, fields: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = []
  for (const field of Object.keys(body))
    if (!fields.has(field)) problems.push({ loc: ['body', field], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' })
  if (!Array.isArray(body.messages)) problems.push({ loc: ['body', 'messages'], msg: 'Field required', type: 'missing' })
  problems.push(...integerProblems(body, 'keepLastMessages', 0))
  return problems
}

function integerProblems(body: Record<string, unknown>, field: string, minimum: number): Problem[] {
  const value = body[field]
  if (value === undefined || (Number.isInteger(value) && (value as number) >= minimum)) return []
  return [{ loc: ['body', field], msg: `Input should be an integer greater than or equal to ${minimum}`, type: 'greater_than_equal' }]
}

function withoutToolParts(message: unknown): unknown {
  const parts = (message as { parts?: unknown }).parts
  if (!Array.isArray(parts)) return message
  return {
    ...(message as object),
    parts: parts.filter((part: { type?: unknown }) => !(typeof part?.type === 'string' && (part.type.startsWith('tool-') || part.type === 'dynamic-tool')))
  }
}

const tokens = (messages: readonly unknown[]) => Math.ceil(JSON.stringify(messages).length / 4)

function stats(before: readonly unknown[], after: readonly unknown[]) {
  return {
    messagesBefore: before.length,
    messagesAfter: after.length,
    tokensBeforeEstimate: tokens(before),
    tokensAfterEstimate: tokens(after),
    messagesDropped: before.length - after.length
  }
}
