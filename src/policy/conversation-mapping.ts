import type { ConversationNamespace } from './conversation-namespace.js'

/**
 * Agent Studio's conversation answers, rewritten for the browser: every upstream conversation
 * id becomes the client's id again, and anything outside the caller's namespace (conversations
 * created before the gateway namespaced ids, or by another system under the same user token)
 * is left out, so the browser only ever sees ids it could send back.
 * Shapes: ConversationBaseResponse / ConversationFullResponse / MessageResponse and
 * UserDataResponse in Algolia's spec (api-clients-automation, specs/agent-studio/common/schemas).
 */

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** One conversation (with or without its messages), or undefined when it is not the caller's. */
export function conversationForClient(namespace: ConversationNamespace, conversation: unknown): Json | undefined {
  if (!isObject(conversation) || typeof conversation.id !== 'string') return undefined
  const clientId = namespace.toClient(conversation.id)
  if (clientId === undefined) return undefined
  const mapped: Json = { ...conversation, id: clientId }
  if (Array.isArray(conversation.messages)) {
    mapped.messages = conversation.messages.map((message) =>
      isObject(message) && typeof message.conversationId === 'string' ? { ...message, conversationId: clientId } : message
    )
  }
  return mapped
}

export interface Filtered {
  readonly body: unknown
  /** Items left out because they are outside the caller's namespace. */
  readonly hidden: number
}

function keepCallers(namespace: ConversationNamespace, items: unknown): { kept: Json[]; hidden: number } {
  const list = Array.isArray(items) ? items : []
  const kept: Json[] = []
  for (const item of list) {
    const mapped = conversationForClient(namespace, item)
    if (mapped !== undefined) kept.push(mapped)
  }
  return { kept, hidden: list.length - kept.length }
}

/** `{ data, pagination }`: pagination is upstream's (exact unless items were left out; see docs/security.md, Conversation namespaces). */
export function conversationListForClient(namespace: ConversationNamespace, answer: unknown): Filtered {
  if (!isObject(answer)) return { body: { data: [] }, hidden: 0 }
  const { kept, hidden } = keepCallers(namespace, answer.data)
  return { body: { ...answer, data: kept }, hidden }
}

/** `{ conversations, memories }`: memories carry no conversation id and pass as they are. */
export function userDataForClient(namespace: ConversationNamespace, answer: unknown): Filtered {
  if (!isObject(answer)) return { body: { conversations: [], memories: [] }, hidden: 0 }
  const { kept, hidden } = keepCallers(namespace, answer.conversations)
  return { body: { ...answer, conversations: kept }, hidden }
}
