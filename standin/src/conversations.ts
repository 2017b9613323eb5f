import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { feedbackOf, feedbackRoutes } from './feedback.js'
import type { ConversationStore, StoredConversation } from './conversation-store.js'
import { createdWithin, isProblem, queryInteger } from './list-query.js'
import type { VerifiedUserToken } from './user-token-check.js'

/**
 * The stand-in's conversations, feedback and user data, modelled on Agent Studio
 * (api-clients-automation specs/agent-studio: ConversationFullResponse, MessageResponse-Output,
 * UserDataResponse, paths/user-data/userData.yml; ../shared/agent-studio-api.md "Conversations"):
 * - a completion persists only when the request has `id` and every message has an `id`; the
 *   conversation's owner is the user token's `sub`; the user's new messages and the assistant's
 *   answer are stored; the title comes from the first user message (at most 60 characters);
 * - list and get need the `logs` ACL and, with a user token, see only that user's conversations
 *   (someone else's answers 404, like a missing one); with the API key alone they see all; the
 *   list is paginated and filtered by dates and votes as list-query.ts reads its query;
 * - DELETE needs `logs` and takes no user token, as in the real API; so do the export (every
 *   user's conversations of the agent) and the bulk DELETE (all of the agent's, or those within
 *   the dates), which a browser must never reach;
 * - user-data GET returns `{ conversations (with messages), memories }`; DELETE removes the
 *   user's messages only ("Does not delete conversations").
 * Conversation ids are global, like the real service's, and a completion continues whatever
 * conversation it names, whoever owns it: the stand-in is as trusting as the threat model
 * assumes, so tests prove the gateway's namespacing, not the upstream's.
 */

type Authorize = (request: FastifyRequest, reply: FastifyReply, acl: string) => Promise<VerifiedUserToken | undefined | false>
type Record_ = (request: FastifyRequest, userToken: VerifiedUserToken | undefined) => void

const summary = (c: StoredConversation) => ({
  id: c.id,
  agentId: c.agentId,
  title: c.title,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
  lastActivityAt: c.updatedAt,
  userToken: c.owner ?? null,
  messageCount: c.messages.length,
  totalInputTokens: 0,
  totalOutputTokens: 0,
  totalTokens: 0
})
const full = (c: StoredConversation) => ({
  ...summary(c),
  messages: c.messages.map((m) => ({
    id: m.id,
    conversationId: c.id,
    role: m.role,
    parts: [{ type: 'text', text: m.text }],
    createdAt: m.createdAt,
    updatedAt: m.createdAt
  }))
})
const notFound = (reply: FastifyReply) => reply.code(404).send({ detail: 'Conversation not found' })

export function conversationRoutes(
  app: FastifyInstance,
  store: ConversationStore,
  authorize: Authorize,
  record: Record_,
  agentExists: (agentId: string) => boolean
): void {
  app.get<{ Params: { agentId: string }; Querystring: Record<string, string> }>('/agent-studio/1/agents/:agentId/conversations', async (request, reply) => {
    const token = await authorize(request, reply, 'logs')
    if (token === false) return reply
    record(request, token)
    // An agent the application does not have: 404 in the `{ message, status }` shape, as a
    // completion for it answers. The spec lists only 200 and 422 for this path; the model
    // assumes, as for completions, that the agent is looked up (after the key and the user
    // token are checked) before its conversations are. `doctor` relies on it to tell a
    // misspelled ALLOWED_AGENT_IDS entry from an agent with no conversations.
    if (!agentExists(request.params.agentId)) return reply.code(404).send({ message: `Agent ${request.params.agentId} not found`, status: 404 })
    // paths/conversations/conversations.yml: page ≥ 1, limit 1–100, feedbackVote 0–1; anything else a 422.
    const pageParam = queryInteger(request.query, 'page', { min: 1 })
    const limitParam = queryInteger(request.query, 'limit', { min: 1, max: 100 })
    const feedbackVote = queryInteger(request.query, 'feedbackVote', { min: 0, max: 1 })
    if (isProblem(pageParam) || isProblem(limitParam) || isProblem(feedbackVote))
      return reply.code(422).send({ detail: [pageParam, limitParam, feedbackVote].filter(isProblem) })
    const page = pageParam ?? 1
    const limit = limitParam ?? 20
    const withFeedback = request.query.includeFeedback === 'true'
    const vote = withFeedback ? feedbackVote : undefined
    const visible = [...store.conversations.values()].filter(
      (c) =>
        c.agentId === request.params.agentId &&
        (token === undefined || c.owner === token.sub) &&
        createdWithin(c.createdAt, request.query) &&
        (vote === undefined || feedbackOf(store, c).some((f) => f.vote === vote))
    )
    return {
      data: visible.slice((page - 1) * limit, page * limit).map((c) => (withFeedback ? { ...summary(c), feedback: feedbackOf(store, c) } : summary(c))),
      pagination: { page, limit, totalCount: visible.length, totalPages: Math.ceil(visible.length / limit) }
    }
  })

  // paths/conversations/conversationsExport.yml: every conversation of the agent (an array of
  // ConversationFullResponse), whoever it belongs to: the path takes no user token.
  app.get<{ Params: { agentId: string }; Querystring: Record<string, string> }>(
    '/agent-studio/1/agents/:agentId/conversations/export',
    async (request, reply) => {
      const token = await authorize(request, reply, 'logs')
      if (token === false) return reply
      record(request, token)
      return [...store.conversations.values()].filter((c) => c.agentId === request.params.agentId && createdWithin(c.createdAt, request.query)).map(full)
    }
  )

  // paths/conversations/conversations.yml `delete`: every conversation of the agent within the
  // dates, all of them without dates; 204.
  app.delete<{ Params: { agentId: string }; Querystring: Record<string, string> }>('/agent-studio/1/agents/:agentId/conversations', async (request, reply) => {
    const token = await authorize(request, reply, 'logs')
    if (token === false) return reply
    record(request, token)
    for (const conversation of [...store.conversations.values()]) {
      if (conversation.agentId !== request.params.agentId || !createdWithin(conversation.createdAt, request.query)) continue
      store.conversations.delete(conversation.id)
      store.deletions.push(conversation.id)
    }
    return reply.code(204).send()
  })

  app.get<{ Params: { agentId: string; conversationId: string }; Querystring: Record<string, string> }>(
    '/agent-studio/1/agents/:agentId/conversations/:conversationId',
    async (request, reply) => {
      const token = await authorize(request, reply, 'logs')
      if (token === false) return reply
      record(request, token)
      const conversation = store.conversations.get(request.params.conversationId)
      if (conversation === undefined || conversation.agentId !== request.params.agentId) return notFound(reply)
      if (token !== undefined && conversation.owner !== token.sub) return notFound(reply)
      return request.query.includeFeedback === 'true' ? { ...full(conversation), feedback: feedbackOf(store, conversation) } : full(conversation)
    }
  )

  app.delete<{ Params: { agentId: string; conversationId: string } }>(
    '/agent-studio/1/agents/:agentId/conversations/:conversationId',
    async (request, reply) => {
      const token = await authorize(request, reply, 'logs')
      if (token === false) return reply
      record(request, token)
      const { agentId, conversationId } = request.params
      if (store.conversations.get(conversationId)?.agentId !== agentId) return notFound(reply)
      store.conversations.delete(conversationId)
      store.deletions.push(conversationId)
      return reply.code(204).send()
    }
  )

  feedbackRoutes(app, store, authorize, record)

  app.get<{ Params: { userToken: string } }>('/agent-studio/1/user-data/:userToken', async (request, reply) => {
    const token = await authorize(request, reply, 'logs')
    if (token === false) return reply
    record(request, token)
    const owned = [...store.conversations.values()].filter((c) => c.owner === request.params.userToken)
    return { conversations: owned.map(full), memories: (store.memories.get(request.params.userToken) ?? []).map((text) => ({ text })) }
  })

  app.delete<{ Params: { userToken: string } }>('/agent-studio/1/user-data/:userToken', async (request, reply) => {
    const token = await authorize(request, reply, 'logs')
    if (token === false) return reply
    record(request, token)
    for (const conversation of store.conversations.values()) {
      if (conversation.owner === request.params.userToken) conversation.messages = []
    }
    return reply.code(204).send()
  })
}
