import { ForbiddenField, InvalidRequest } from '../errors.js'

/**
 * Tool parts in an AI SDK 5+ history (issue 23, item 6), allowed exactly where Agent Studio
 * takes them. Algolia's spec (specs/agent-studio/common/schemas/): a user message's parts are
 * TextPartV5 only (UserMessageV5.yml); tool parts belong to assistant messages
 * (AssistantMessageV5.yml → AssistantPartV5.yml → ToolPartV5.yml). ToolPartV5 has `type`,
 * `toolCallId`, `state` (ToolState.yml: input-streaming, input-available, output-available,
 * output-error), `input`, `rawInput`, `output`, `outputMetadata`, `errorText`, `providerOptions`,
 * `requiresApproval`, `description`, `argsHash`; `terminal` came with the 1.4.0 client's spec
 * files. The AI SDK (ai 6/7, `UIToolInvocation` in ai's index.d.ts) adds the approval states
 * `approval-requested`, `approval-responded`, `output-denied` with an `approval` object, which
 * `useChat` keeps in its history and resends; and `toolName` on `dynamic-tool` parts, `title`,
 * `providerExecuted`, `preliminary`, `callProviderMetadata`, `resultProviderMetadata`,
 * `toolMetadata`, `inputEncoding`.
 *
 * So: a tool part in a user message is refused (it would put a tool result, or an approval,
 * in the user's mouth); an assistant tool part keeps the fields above and loses any other (as
 * unknown top-level fields are dropped); a state outside the spec's and the AI SDK's is refused.
 */
const SPEC_STATES = ['input-streaming', 'input-available', 'output-available', 'output-error'] as const
const APPROVAL_STATES = ['approval-requested', 'approval-responded', 'output-denied'] as const
const STATES: ReadonlySet<string> = new Set([...SPEC_STATES, ...APPROVAL_STATES])

const SPEC_FIELDS = [
  'type',
  'toolCallId',
  'state',
  'input',
  'rawInput',
  'output',
  'outputMetadata',
  'errorText',
  'providerOptions',
  'requiresApproval',
  'description',
  'argsHash',
  'terminal'
]
const AI_SDK_FIELDS = [
  'approval',
  'toolName',
  'title',
  'providerExecuted',
  'preliminary',
  'callProviderMetadata',
  'resultProviderMetadata',
  'toolMetadata',
  'inputEncoding',
  'dynamic'
]
const TOOL_PART_FIELDS: ReadonlySet<string> = new Set([...SPEC_FIELDS, ...AI_SDK_FIELDS])

type Message = { role: string; [field: string]: unknown }

export function isToolPart(part: unknown): part is Record<string, unknown> {
  if (part === null || typeof part !== 'object') return false
  const type = (part as { type?: unknown }).type
  return typeof type === 'string' && (type.startsWith('tool-') || type === 'dynamic-tool')
}

/** The history as it may leave: unchanged (same objects) unless a tool part lost an unknown field. */
export function allowedToolParts<T extends Message>(messages: T[]): T[] {
  let copied: T[] | undefined
  messages.forEach((message, index) => {
    const parts = message.parts
    if (!Array.isArray(parts)) return
    let keptParts: unknown[] | undefined
    parts.forEach((part: unknown, partIndex) => {
      if (!isToolPart(part)) return
      const path = `messages[${index}].parts[${partIndex}]`
      if (message.role !== 'assistant')
        throw new ForbiddenField(`"${path}" (a tool part in a ${message.role} message: Agent Studio takes tool parts only from assistant messages)`)
      const state = part.state
      if (state !== undefined && (typeof state !== 'string' || !STATES.has(state))) {
        throw new InvalidRequest(`"${path}.state" must be one of ${[...STATES].join(', ')}`)
      }
      const unknown = Object.keys(part).filter((field) => !TOOL_PART_FIELDS.has(field))
      if (unknown.length === 0) return
      const kept: Record<string, unknown> = {}
      for (const [field, value] of Object.entries(part)) if (TOOL_PART_FIELDS.has(field)) kept[field] = value
      keptParts ??= [...parts]
      keptParts[partIndex] = kept
    })
    if (keptParts === undefined) return
    copied ??= [...messages]
    copied[index] = { ...message, parts: keptParts }
  })
  return copied ?? messages
}
