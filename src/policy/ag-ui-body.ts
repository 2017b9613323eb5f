import type { PolicyConfig } from '../config/types.js'
import { ForbiddenField, InvalidId, InvalidRequest } from '../errors.js'
import { keptAlgolia } from './completion-body.js'
import type { CompletionBody } from './completion-body.js'
import { INVALID_CONVERSATION_ID_MESSAGE, isClientConversationId } from './conversation-namespace.js'
import type { ConversationNamespace } from './conversation-namespace.js'
import { instructionMessagePath } from './instruction-roles.js'
import { assertMessageCount, MESSAGES_CEILING } from './message-limits.js'

/**
 * The AG-UI completion body (`compatibilityMode=ag-ui`), as Algolia's newer spec files define
 * it (AguiCompletionRequest): `{ threadId, runId, parentRunId?, messages, forwardedProps:
 * { algolia, toolApprovals, configuration }, resume? }`. AG-UI's HttpAgent sends a
 * RunAgentInput, which also carries `state`, `tools` and `context`: Agent Studio's schema has
 * no place for them, so they are dropped. Messages follow AG-UI's roles (ItemsUnionAguiCompletionRequest:
 * user, assistant, tool, reasoning); an assistant message may be tool calls only. `developer`
 * and `system` messages would override the agent's instructions: refused like a `system`
 * message in the AI SDK body, unless ALLOW_SYSTEM_MESSAGES. The same refusals as on any
 * completion apply inside `forwardedProps`. `threadId` is the conversation id and gets the
 * same per-user namespace as `id` (issue 9).
 */
const RUN_ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$'

export const agUiBodySchema = {
  type: 'object',
  required: ['threadId', 'runId', 'messages'],
  properties: {
    threadId: { type: 'string' },
    // AguiCompletionRequest: 1–128 characters. AG-UI clients make them UUIDs (HttpAgent's
    // runId); Agent Studio echoes runId in RUN_STARTED, so only id characters pass (issue 19).
    runId: { type: 'string', pattern: RUN_ID_PATTERN },
    parentRunId: { type: 'string', pattern: RUN_ID_PATTERN },
    messages: {
      type: 'array',
      maxItems: MESSAGES_CEILING,
      items: {
        type: 'object',
        required: ['id', 'role'],
        properties: {
          id: { type: 'string', maxLength: 128 },
          role: { type: 'string', enum: ['user', 'assistant', 'tool', 'reasoning', 'developer', 'system'] },
          toolCalls: { type: 'array', maxItems: 1000 },
          toolCallId: { type: 'string', maxLength: 128 },
          parts: { type: 'array', maxItems: 1000 }
        }
      }
    },
    forwardedProps: {
      type: 'object',
      properties: {
        algolia: {
          type: 'object',
          properties: {
            searchParameters: { type: 'object' },
            indices: { type: 'array', maxItems: 10, items: { type: 'string', minLength: 1, maxLength: 256 } }
          }
        },
        toolApprovals: { type: 'object' }
      }
    },
    // AguiResume / ResumeUnion: answers to interrupts of a previous run.
    resume: {
      anyOf: [
        { type: 'null' },
        {
          type: 'array',
          maxItems: 100,
          items: {
            type: 'object',
            required: ['interruptId', 'status'],
            // AguiResume: interruptId 1–256, status a StatusEnum (specs/agent-studio/common/schemas/StatusEnum.yml),
            // payload an object; nothing else (the gateway rebuilds each entry from these three).
            additionalProperties: false,
            properties: {
              interruptId: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,256}$' },
              status: { type: 'string', enum: ['resolved', 'cancelled'] },
              payload: { type: ['object', 'null'] }
            }
          }
        }
      ]
    }
  }
} as const

interface AgUiResume {
  interruptId: string
  status: 'resolved' | 'cancelled'
  payload?: Record<string, unknown> | null
}

export interface AgUiBody {
  threadId: string
  runId: string
  parentRunId?: string
  messages: Array<{ id: string; role: string; [field: string]: unknown }>
  forwardedProps?: { algolia?: CompletionBody['algolia']; toolApprovals?: unknown; configuration?: unknown; [field: string]: unknown }
  resume?: AgUiResume[] | null
  [field: string]: unknown
}

export function buildAgUiBodyPolicy(policy: PolicyConfig): (body: AgUiBody, namespace: ConversationNamespace) => AgUiBody {
  return function agUiBody(body, namespace) {
    assertMessageCount(body.messages.length, policy)
    if (!isClientConversationId(body.threadId))
      throw new InvalidId(INVALID_CONVERSATION_ID_MESSAGE.replace('conversation id', 'threadId (the conversation id)'))
    if (!policy.allowSystemMessages) {
      const index = body.messages.findIndex((message) => message.role === 'system' || message.role === 'developer')
      if (index !== -1) throw new ForbiddenField(`"messages[${index}]" with role "${body.messages[index]!.role}" (it would override the agent's instructions)`)
      // Nor inside a message: its content, tool calls and any other field it carries.
      for (const [i, message] of body.messages.entries()) {
        const nested = instructionMessagePath(Object.fromEntries(Object.entries(message).filter(([key]) => key !== 'role')), `messages[${i}]`)
        if (nested !== undefined) throw new ForbiddenField(`"${nested}" with a "system" or "developer" role (it would override the agent's instructions)`)
      }
    }
    const forwarded: AgUiBody = { threadId: namespace.toUpstream(body.threadId), runId: body.runId, messages: body.messages }
    if (body.parentRunId !== undefined) forwarded.parentRunId = body.parentRunId
    // Rebuilt entry by entry from the three fields the schema checked.
    if (Array.isArray(body.resume)) {
      forwarded.resume = (body.resume as AgUiResume[]).map(({ interruptId, status, payload }) =>
        payload === undefined || payload === null ? { interruptId, status } : { interruptId, status, payload }
      )
    }

    const props = body.forwardedProps
    if (props !== undefined) {
      const kept: NonNullable<AgUiBody['forwardedProps']> = {}
      if (props.configuration !== undefined) {
        if (!policy.allowConfiguration) throw new ForbiddenField('"forwardedProps.configuration" (it would replace the agent\'s instructions and tools)')
        kept.configuration = props.configuration
      }
      if (props.toolApprovals !== undefined) {
        if (!policy.allowToolApprovals) throw new ForbiddenField('"forwardedProps.toolApprovals"')
        kept.toolApprovals = props.toolApprovals
      }
      const algolia = keptAlgolia(props.algolia, policy, 'forwardedProps.algolia')
      if (algolia !== undefined) kept.algolia = algolia
      if (Object.keys(kept).length > 0) forwarded.forwardedProps = kept
    }
    return forwarded
  }
}

/** With AG-UI allowed, a body with `threadId` is read as AG-UI, any other as the AI SDK's. */
export function completionRequestSchema(policy: PolicyConfig, aiSdkSchema: object): object {
  if (!policy.compatibilityModes.includes('ag-ui')) return aiSdkSchema
  return { if: { type: 'object', required: ['threadId'] }, then: agUiBodySchema, else: aiSdkSchema }
}

/** The body must be the shape of the protocol the query asked for. */
export function assertBodyMatchesMode(isAgUi: boolean, body: Record<string, unknown>): void {
  if (isAgUi && typeof body.threadId !== 'string')
    throw new InvalidRequest('compatibilityMode=ag-ui takes an AG-UI RunAgentInput body: "threadId", "runId" and "messages"')
  if (!isAgUi && body.threadId !== undefined) throw new InvalidRequest('"threadId" belongs to an AG-UI body: send it with compatibilityMode=ag-ui')
}
