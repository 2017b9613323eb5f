import { AGENT_ID_PATTERN } from '../config/settings.js'

/**
 * Ids that end up in an upstream path. The router has already percent-decoded them, so a
 * strict whole-string pattern (letters, digits, "-", "_") leaves no room for "/", "\\",
 * ".", "%" or anything that could become another path once forwarded.
 */
export { AGENT_ID_PATTERN }

export const isAgentId = (value: unknown): value is string => typeof value === 'string' && AGENT_ID_PATTERN.test(value)
/** Conversation ids follow the same alphabet, shorter by the namespace prefix: see conversation-namespace.ts. */
export { isClientConversationId } from './conversation-namespace.js'
