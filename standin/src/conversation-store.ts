import { randomUUID } from 'node:crypto'

/**
 * What the stand-in keeps of conversations, messages and feedback, shared by the conversation
 * and feedback routes (conversations.ts, feedback.ts), which model Agent Studio's own.
 */

/** Feedback as Agent Studio keeps it: see feedback.ts for its spec. */
export interface StoredFeedback {
  readonly id: string
  readonly agentId: string
  readonly messageId: string
  readonly vote: 0 | 1
  readonly tags: string[]
  readonly notes: string | null
  readonly model: string | null
  readonly createdAt: string
  readonly updatedAt: string
}

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
  /** What Agent Studio stored and answered (absent for entries tests seed by hand). */
  readonly stored?: StoredFeedback
}

const TITLE_LENGTH = 60

export class ConversationStore {
  readonly conversations = new Map<string, StoredConversation>()
  readonly feedback: FeedbackEntry[] = []
  readonly deletions: string[] = []
  /**
   * What the agent remembers of each user (by user token `sub`), loaded at a conversation's start
   * when memory is on (Algolia docs, Agent Studio "Memory": per user only with a secure user
   * token). Tests seed it; `GET /1/user-data/{userToken}` returns it.
   */
  readonly memories = new Map<string, string[]>()

  /** Seeds or extends a conversation (tests use it to give user B a conversation). */
  append(
    agentId: string,
    id: string,
    owner: string | undefined,
    message: Omit<StoredMessage, 'id' | 'createdAt'> & { readonly id?: string }
  ): StoredConversation {
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
