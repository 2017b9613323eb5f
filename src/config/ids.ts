/**
 * Ids that end up in an upstream path. The router has already percent-decoded them, so a
 * strict whole-string pattern (letters, digits, "-", "_") leaves no room for "/", "\\",
 * ".", "%" or anything that could become another path once forwarded. ALLOWED_AGENT_IDS is
 * validated with the same pattern at start (src/config/settings.ts).
 */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/

export const isAgentId = (value: unknown): value is string => typeof value === 'string' && AGENT_ID_PATTERN.test(value)
// Conversation ids follow the same alphabet, shorter by the namespace prefix: src/policy/conversation-namespace.ts.
