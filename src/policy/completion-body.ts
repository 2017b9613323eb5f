import type { PolicyConfig } from '../config/types.js'
import { ForbiddenField, InvalidId } from '../errors.js'
import { INVALID_CONVERSATION_ID_MESSAGE, isClientConversationId } from './conversation-namespace.js'
import type { ConversationNamespace } from './conversation-namespace.js'
import { assertMessageCount, MESSAGES_CEILING } from './message-limits.js'
import { allowedToolParts } from './tool-parts.js'

/** The structure a completion body must have; checked by Fastify (ajv) before any policy runs. */
export function completionBodySchema(_policy: PolicyConfig) {
  return {
    type: 'object',
    required: ['messages'],
    properties: {
      // Shape checked by the body policy, so a bad id is `invalid_id` with the maximum in its message.
      id: { type: 'string' },
      messages: {
        type: 'array',
        minItems: 1,
        // A hard ceiling only; MAX_MESSAGES is checked by the policy below, with a message that names it.
        maxItems: MESSAGES_CEILING,
        items: {
          type: 'object',
          required: ['role'],
          properties: {
            id: { type: 'string', maxLength: 128 },
            role: { type: 'string', enum: ['user', 'assistant', 'system', 'tool', 'data'] },
            parts: { type: 'array', maxItems: 1000 }
          },
          anyOf: [{ required: ['content'] }, { required: ['parts'] }]
        }
      },
      trigger: { type: 'string', maxLength: 64 },
      messageId: { type: 'string', maxLength: 128 },
      toolApprovals: { type: 'object' },
      algolia: {
        type: 'object',
        properties: {
          searchParameters: { type: 'object' },
          indices: { type: 'array', maxItems: 10, items: { type: 'string', minLength: 1, maxLength: 256 } }
        }
      }
    }
  } as const
}

export interface CompletionBody {
  id?: string
  messages: Array<{ role: string; [field: string]: unknown }>
  trigger?: string
  messageId?: string
  toolApprovals?: Record<string, unknown>
  algolia?: { searchParameters?: unknown; indices?: unknown; mcpServers?: unknown; [field: string]: unknown }
  configuration?: unknown
  [field: string]: unknown
}

/** `namespace` is the caller's: the conversation id that leaves is always inside it. */
export type CompletionBodyPolicy = (body: CompletionBody, namespace: ConversationNamespace) => CompletionBody

/**
 * What of the browser's body reaches Agent Studio. The forwarded body is rebuilt from known
 * fields only (the conversation id mapped into the caller's namespace): unknown top-level and `algolia` fields are dropped. Fields that change what the
 * agent is (its prompt, tools, data sources) are refused outright unless ops allowed them.
 */
export function buildCompletionBodyPolicy(policy: PolicyConfig): CompletionBodyPolicy {
  return function completionBody(body, namespace) {
    assertMessageCount(body.messages.length, policy)
    if (body.id !== undefined && !isClientConversationId(body.id)) throw new InvalidId(INVALID_CONVERSATION_ID_MESSAGE)
    if (body.configuration !== undefined && !policy.allowConfiguration) {
      throw new ForbiddenField('"configuration" (it would replace the agent\'s instructions and tools)')
    }
    if (body.toolApprovals !== undefined && !policy.allowToolApprovals) throw new ForbiddenField('"toolApprovals"')
    if (!policy.allowSystemMessages) {
      const index = body.messages.findIndex((message) => message.role === 'system')
      if (index !== -1) throw new ForbiddenField(`"messages[${index}]" with role "system" (it would override the agent's instructions)`)
    }

    // Tool parts only where Agent Studio takes them, with the fields it and the AI SDK define (tool-parts.ts).
    const forwarded: CompletionBody = { messages: allowedToolParts(body.messages) }
    // The browser's id is never the upstream id: it becomes the caller's own conversation.
    if (body.id !== undefined) forwarded.id = namespace.toUpstream(body.id)
    if (body.trigger !== undefined) forwarded.trigger = body.trigger
    if (body.messageId !== undefined) forwarded.messageId = body.messageId
    if (body.toolApprovals !== undefined) forwarded.toolApprovals = body.toolApprovals
    if (body.configuration !== undefined) forwarded.configuration = body.configuration

    const algolia = keptAlgolia(body.algolia, policy, 'algolia')
    if (algolia !== undefined) forwarded.algolia = algolia
    return forwarded
  }
}

/**
 * The `algolia` per-request options that may pass (also inside AG-UI's `forwardedProps`):
 * unknown ones are dropped, the ones that change the agent's data sources refused unless allowed.
 */
export function keptAlgolia(algolia: CompletionBody['algolia'], policy: PolicyConfig, path: string): CompletionBody['algolia'] {
  if (algolia === undefined) return undefined
  const kept: NonNullable<CompletionBody['algolia']> = {}
  if (algolia.mcpServers !== undefined) {
    if (!policy.allowMcpServers) throw new ForbiddenField(`"${path}.mcpServers" (it would connect the agent to other tools)`)
    kept.mcpServers = algolia.mcpServers
  }
  if (algolia.searchParameters !== undefined) {
    if (!policy.allowSearchParameters) throw new ForbiddenField(`"${path}.searchParameters"`)
    kept.searchParameters = algolia.searchParameters
  }
  if (algolia.indices !== undefined) {
    if (!policy.allowIndices) throw new ForbiddenField(`"${path}.indices"`)
    kept.indices = algolia.indices
  }
  return Object.keys(kept).length > 0 ? kept : undefined
}
