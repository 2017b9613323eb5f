import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { VerifiedUserToken } from './user-token-check.js'

/**
 * The stand-in's conversations, feedback and user data, kept per owner (the user token's
 * `sub`). Reads with a user token see only that user's conversations (someone else's answers
 * 404, like a missing one); reads and deletes with the API key alone see everything; DELETE
 * takes no user token at all, as in the real API. Completions append to whatever
 * conversation id they are given, whoever owns it: the stand-in is deliberately as trusting
 * as the threat model assumes, so that tests prove the gateway's ownership rule, not the
 * upstream's.
 */

export interface StoredMessage {
  readonly id: string
  readonly role: string
  readonly text: string
  /** The `sub` of the user token that sent it. */
  readonly sentBy: string | undefined
}

export interface StoredConversation {
  readonly id: string
  readonly agentId: string
  readonly owner: string | undefined
  readonly createdAt: string
  updatedAt: string
  messages: StoredMessage[]
}

export interface FeedbackEntry {
  readonly body: unknown
  readonly userToken: string | undefined
}

export class ConversationStore {
  readonly conversations = new Map<string, StoredConversation>()
  readonly feedback: FeedbackEntry[] = []
  readonly deletions: string[] = []

  /** Seeds or extends a conversation (tests use it to give user B a conversation). */
  append(agentId: string, id: string, owner: string | undefined, message: Omit<StoredMessage, 'id'>): StoredConversation {
    const now = new Date().toISOString()
    let conversation = this.conversations.get(id)
    if (conversation === undefined) {
      conversation = { id, agentId, owner, createdAt: now, updatedAt: now, messages: [] }
      this.conversations.set(id, conversation)
    }
    conversation.messages.push({ id: `alg_msg_${randomUUID().replaceAll('-', '')}`, ...message })
    conversation.updatedAt = now
    return conversation
  }
}

type Authorize = (request: FastifyRequest, reply: FastifyReply, acl: string) => Promise<VerifiedUserToken | undefined | false>
type Record_ = (request: FastifyRequest, userToken: VerifiedUserToken | undefined) => void

const summary = (c: StoredConversation) => ({
  id: c.id,
  agentId: c.agentId,
  title: c.messages[0]?.text.slice(0, 40) ?? null,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
  lastActivityAt: c.updatedAt,
  userToken: c.owner ?? null,
  messageCount: c.messages.length
})
const full = (c: StoredConversation) => ({
  ...summary(c),
  messages: c.messages.map((m) => ({ id: m.id, role: m.role, parts: [{ type: 'text', text: m.text }] }))
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
    const { conversationId } = request.params
    if (!store.conversations.delete(conversationId)) return notFound(reply)
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
    return { userToken: request.params.userToken, conversations: owned.map(full), memories: [] }
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
