import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { VerifiedUserToken } from './user-token-check.js'

/**
 * The stand-in's conversations, feedback and user data, modelled on Agent Studio
 * (api-clients-automation specs/agent-studio: ConversationFullResponse, MessageResponse-Output,
 * UserDataResponse, paths/user-data/userData.yml; ../shared/agent-studio-api.md "Conversations"):
 * - a completion persists only when the request has `id` and every message has an `id`; the
 *   conversation's owner is the user token's `sub`; the user's new messages and the assistant's
 *   answer are stored; the title comes from the first user message (at most 60 characters);
 * - list and get need the `logs` ACL and, with a user token, see only that user's conversations
 *   (someone else's answers 404, like a missing one); with the API key alone they see all;
 * - DELETE needs `logs` and takes no user token, as in the real API;
 * - user-data GET returns `{ conversations (with messages), memories }`; DELETE removes the
 *   user's messages only ("Does not delete conversations").
 * Conversation ids are global, like the real service's, and a completion continues whatever
 * conversation it names, whoever owns it: the stand-in is as trusting as the threat model
 * assumes, so tests prove the gateway's namespacing, not the upstream's.
 */

export interface StoredMessage {
  readonly id: string
  readonly role: string
  readonly text: string
  /** The `sub` of the user token that sent it. */
  readonly sentBy: string | undefined
  readonly createdAt: string
}

export interface StoredConversation {
  readonly id: string
  readonly agentId: string
  readonly owner: string | undefined
  readonly title: string | null
  readonly createdAt: string
  updatedAt: string
  messages: StoredMessage[]
}

export interface FeedbackEntry {
  readonly body: unknown
  readonly userToken: string | undefined
}

const TITLE_LENGTH = 60

export class ConversationStore {
  readonly conversations = new Map<string, StoredConversation>()
  readonly feedback: FeedbackEntry[] = []
  readonly deletions: string[] = []

  /** Seeds or extends a conversation (tests use it to give user B a conversation). */
  append(agentId: string, id: string, owner: string | undefined, message: Omit<StoredMessage, 'id' | 'createdAt'> & { readonly id?: string }): StoredConversation {
    const now = new Date().toISOString()
    let conversation = this.conversations.get(id)
    if (conversation === undefined) {
      const title = message.role === 'user' ? message.text.slice(0, TITLE_LENGTH) : null
      conversation = { id, agentId, owner, title, createdAt: now, updatedAt: now, messages: [] }
      this.conversations.set(id, conversation)
    }
    conversation.messages.push({ ...message, id: message.id ?? `alg_msg_${randomUUID().replaceAll('-', '')}`, createdAt: now })
    conversation.updatedAt = now
    return conversation
  }

  /**
   * A completion's request side: clients resend the whole history each turn, so only messages
   * not stored yet (by id) are added. Returns false when Agent Studio would not persist it.
   */
  recordRequest(agentId: string, id: unknown, owner: string | undefined, messages: readonly unknown[], textOf: (message: unknown) => string): boolean {
    if (typeof id !== 'string') return false
    const ids = messages.map((message) => (message as { id?: unknown } | null)?.id)
    if (!ids.every((messageId) => typeof messageId === 'string' && messageId.length > 0)) return false
    const stored = new Set(this.conversations.get(id)?.messages.map((message) => message.id))
    messages.forEach((message, index) => {
      const messageId = ids[index] as string
      const role = String((message as { role?: unknown }).role)
      if (stored.has(messageId) || role !== 'user') return
      this.append(agentId, id, owner, { id: messageId, role, text: textOf(message), sentBy: owner })
    })
    return true
  }
}

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

export function conversationRoutes(app: FastifyInstance, store: ConversationStore, authorize: Authorize, record: Record_): void {
  app.get<{ Params: { agentId: string }; Querystring: Record<string, string> }>('/agent-studio/1/agents/:agentId/conversations', async (request, reply) => {
    const token = await authorize(request, reply, 'logs')
    if (token === false) return reply
    record(request, token)
    const page = Number(request.query.page ?? 1)
    const limit = Number(request.query.limit ?? 20)
    const visible = [...store.conversations.values()].filter((c) => c.agentId === request.params.agentId && (token === undefined || c.owner === token.sub))
    return {
      data: visible.slice((page - 1) * limit, page * limit).map(summary),
      pagination: { page, limit, totalCount: visible.length, totalPages: Math.ceil(visible.length / limit) }
    }
  })

  app.get<{ Params: { agentId: string; conversationId: string } }>('/agent-studio/1/agents/:agentId/conversations/:conversationId', async (request, reply) => {
    const token = await authorize(request, reply, 'logs')
    if (token === false) return reply
    record(request, token)
    const conversation = store.conversations.get(request.params.conversationId)
    if (conversation === undefined || conversation.agentId !== request.params.agentId) return notFound(reply)
    if (token !== undefined && conversation.owner !== token.sub) return notFound(reply)
    return full(conversation)
  })

  app.delete<{ Params: { agentId: string; conversationId: string } }>('/agent-studio/1/agents/:agentId/conversations/:conversationId', async (request, reply) => {
    const token = await authorize(request, reply, 'logs')
    if (token === false) return reply
    record(request, token)
    const { agentId, conversationId } = request.params
    if (store.conversations.get(conversationId)?.agentId !== agentId) return notFound(reply)
    store.conversations.delete(conversationId)
    store.deletions.push(conversationId)
    return reply.code(204).send()
  })

  app.post('/agent-studio/1/feedback', async (request, reply) => {
    const token = await authorize(request, reply, 'search')
    if (token === false) return reply
    record(request, token)
    const body = request.body as { messageId?: unknown; agentId?: unknown; vote?: unknown } | undefined
    if (typeof body?.messageId !== 'string' || typeof body.agentId !== 'string' || (body.vote !== 0 && body.vote !== 1)) {
      return reply.code(422).send({ detail: [{ loc: ['body'], msg: 'messageId, agentId and vote are required', type: 'missing' }] })
    }
    store.feedback.push({ body, userToken: token?.sub })
    return { status: 'ok' }
  })

  app.get<{ Params: { userToken: string } }>('/agent-studio/1/user-data/:userToken', async (request, reply) => {
    const token = await authorize(request, reply, 'logs')
    if (token === false) return reply
    record(request, token)
    const owned = [...store.conversations.values()].filter((c) => c.owner === request.params.userToken)
    return { conversations: owned.map(full), memories: [] }
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
