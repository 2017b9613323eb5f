import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ConversationStore, StoredConversation, StoredFeedback } from './conversation-store.js'
import type { VerifiedUserToken } from './user-token-check.js'

/**
 * Feedback as Agent Studio keeps it (Algolia's spec: paths/feedback/feedback.yml answers
 * `201` with a FeedbackResponse `{ id, agentId, messageId, vote, tags, notes, model,
 * createdAt, updatedAt }`; FeedbackCreationRequest bounds tags to 10 × 50 characters and notes
 * to 1000; validation errors are `422 { detail: [{ loc, msg, type }] }`). Conversations read
 * with `includeFeedback=true` carry the feedback given on their messages, and the list's
 * `feedbackVote` keeps only conversations with a vote of that value
 * (paths/conversations/conversations.yml, conversation.yml). Stored as conversation-store.ts's
 * StoredFeedback.
 */

type Authorize = (request: FastifyRequest, reply: FastifyReply, acl: string) => Promise<VerifiedUserToken | undefined | false>
type Record_ = (request: FastifyRequest, userToken: VerifiedUserToken | undefined) => void

export function feedbackRoutes(app: FastifyInstance, store: ConversationStore, authorize: Authorize, record: Record_): void {
  app.post('/agent-studio/1/feedback', async (request, reply) => {
    const token = await authorize(request, reply, 'search')
    if (token === false) return reply
    record(request, token)
    const body = (request.body ?? {}) as { messageId?: unknown; agentId?: unknown; vote?: unknown; tags?: unknown; notes?: unknown }
    const problems = feedbackProblems(body)
    if (problems.length > 0) return reply.code(422).send({ detail: problems })
    const now = new Date().toISOString()
    const stored: StoredFeedback = {
      id: `alg_fbk_${randomUUID().replaceAll('-', '')}`,
      agentId: body.agentId as string,
      messageId: body.messageId as string,
      vote: body.vote as 0 | 1,
      tags: (body.tags as string[] | undefined) ?? [],
      notes: (body.notes as string | undefined) ?? null,
      model: 'stand-in-1',
      createdAt: now,
      updatedAt: now
    }
    store.feedback.push({ body, userToken: token?.sub, stored })
    return reply.code(201).send(stored)
  })
  patchRoute(app, store, authorize, record)
}

/**
 * `PATCH /1/feedback` (search ACL; Algolia's newer spec files and the generated
 * `@algolia/agent-studio` 1.4.0 client): changes the feedback given on a message,
 * `{ messageId, agentId, vote?, tags?, notes? }`, answering 200 with the updated
 * FeedbackResponse. The stand-in finds it by agent, message and the caller's user token: a user
 * changes their own vote only (with no vote of theirs on that message: 404). Algolia does not
 * document the scoping; the stand-in scopes it like conversations.
 */
function patchRoute(app: FastifyInstance, store: ConversationStore, authorize: Authorize, record: Record_): void {
  app.patch('/agent-studio/1/feedback', async (request, reply) => {
    const token = await authorize(request, reply, 'search')
    if (token === false) return reply
    record(request, token)
    const body = (request.body ?? {}) as { messageId?: unknown; agentId?: unknown; vote?: unknown; tags?: unknown; notes?: unknown }
    const problems = feedbackProblems({ ...body, vote: body.vote ?? 0 })
    if (problems.length > 0) return reply.code(422).send({ detail: problems })
    const index = store.feedback.findLastIndex(
      (entry) => entry.stored?.agentId === body.agentId && entry.stored?.messageId === body.messageId && entry.userToken === token?.sub
    )
    const entry = store.feedback[index]
    if (entry?.stored === undefined) return reply.code(404).send({ message: 'Feedback not found', status: 404 })
    const updated: StoredFeedback = {
      ...entry.stored,
      ...(body.vote === undefined ? {} : { vote: body.vote as 0 | 1 }),
      ...(body.tags === undefined ? {} : { tags: body.tags as string[] }),
      ...(body.notes === undefined ? {} : { notes: body.notes as string }),
      updatedAt: new Date().toISOString()
    }
    store.feedback[index] = { ...entry, stored: updated }
    return reply.code(200).send(updated)
  })
}

function feedbackProblems(body: Record<string, unknown>) {
  const problems: Array<{ loc: Array<string | number>; msg: string; type: string }> = []
  if (typeof body.messageId !== 'string') problems.push({ loc: ['body', 'messageId'], msg: 'Field required', type: 'missing' })
  if (typeof body.agentId !== 'string') problems.push({ loc: ['body', 'agentId'], msg: 'Field required', type: 'missing' })
  if (body.vote !== 0 && body.vote !== 1) problems.push({ loc: ['body', 'vote'], msg: 'Input should be 0 or 1', type: 'literal_error' })
  if (body.tags !== undefined && (!Array.isArray(body.tags) || body.tags.length > 10 || body.tags.some((tag) => typeof tag !== 'string' || tag.length > 50))) {
    problems.push({ loc: ['body', 'tags'], msg: 'At most 10 tags of at most 50 characters', type: 'value_error' })
  }
  if (body.notes !== undefined && (typeof body.notes !== 'string' || body.notes.length > 1000))
    problems.push({ loc: ['body', 'notes'], msg: 'String should have at most 1000 characters', type: 'string_too_long' })
  return problems
}

/** The feedback given on a conversation's messages. */
export function feedbackOf(store: ConversationStore, conversation: StoredConversation): StoredFeedback[] {
  const ids = new Set(conversation.messages.map((message) => message.id))
  return store.feedback.flatMap((entry) => (entry.stored !== undefined && ids.has(entry.stored.messageId) ? [entry.stored] : []))
}
