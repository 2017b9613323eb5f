import { createHash } from 'node:crypto'

/**
 * Conversations belong to their user by construction. The conversation id a browser sends is
 * never the upstream id: the upstream id is `<tag>_<client id>`, where `<tag>` is a fixed-length
 * digest of the caller's user id. The gateway always prefixes the caller's own tag, and the tag
 * has a fixed length, so no client id (encoded or not) can name an id in another user's
 * namespace; two users who pick the same client id reach two different upstream conversations.
 *
 * The digest is deliberately NOT keyed: the tag is not a secret (its job is to separate users,
 * not to hide them; Agent Studio already sees the user id as the user token's `sub`), and a
 * keyed digest would need a secret that can never rotate, because changing it would hide every
 * existing conversation.
 */

/** 32 hex characters: 128 bits of SHA-256, far beyond any chance collision between two users. */
const TAG_LENGTH = 32
/** Agent Studio's limit on a conversation id. */
const UPSTREAM_CONVERSATION_ID_MAX = 128
/** The prefix takes the tag and one "_", leaving the rest for the client's id. */
export const MAX_CLIENT_CONVERSATION_ID_LENGTH = UPSTREAM_CONVERSATION_ID_MAX - TAG_LENGTH - 1

/** What a client id may look like: the upstream id's own alphabet, shorter by the prefix. */
export const CLIENT_CONVERSATION_ID_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_-]{0,${MAX_CLIENT_CONVERSATION_ID_LENGTH - 1}}$`)

export const INVALID_CONVERSATION_ID_MESSAGE = `conversation id is not valid: ids are 1 to ${MAX_CLIENT_CONVERSATION_ID_LENGTH} letters, digits, "-" or "_", starting with a letter or digit`

export const isClientConversationId = (value: unknown): value is string => typeof value === 'string' && CLIENT_CONVERSATION_ID_PATTERN.test(value)

export interface ConversationNamespace {
  /** The upstream id of the caller's conversation `clientId` (a valid client id). */
  toUpstream(clientId: string): string
  /** The client's id for an upstream id, or undefined when it is not in this namespace. */
  toClient(upstreamId: string): string | undefined
}

export function conversationTag(userId: string): string {
  return createHash('sha256').update(userId, 'utf8').digest('hex').slice(0, TAG_LENGTH)
}

export function conversationNamespace(userId: string): ConversationNamespace {
  const prefix = `${conversationTag(userId)}_`
  return {
    toUpstream: (clientId) => prefix + clientId,
    toClient(upstreamId) {
      if (!upstreamId.startsWith(prefix)) return undefined
      const clientId = upstreamId.slice(prefix.length)
      return isClientConversationId(clientId) ? clientId : undefined
    }
  }
}
