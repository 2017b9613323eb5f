/**
 * What Agent Studio's validation says of an AI SDK 5 history's parts (Algolia's spec,
 * specs/agent-studio/common/schemas/): a user message's parts are TextPartV5 (UserMessageV5.yml),
 * and `data-*` parts clients echo back are accepted and dropped on conversion
 * (agent-studio-api.md "Stream parts"); tool parts belong to assistant messages
 * (AssistantPartV5.yml, ToolPartV5.yml) and need `type` and `toolCallId`, with a `state` of
 * ToolState.yml. The stand-in also accepts the AI SDK 6/7 approval states (approval-requested,
 * approval-responded, output-denied), which `useChat` keeps in the history it resends, and which
 * the published ToolState does not list yet: a deliberate choice, so the gateway's tests can show
 * such a history reaching Agent Studio intact. Problems in pydantic's 422 shape.
 */
const STATES = new Set(['input-streaming', 'input-available', 'output-available', 'output-error', 'approval-requested', 'approval-responded', 'output-denied'])

export function partProblems(messages: readonly unknown[]): Array<{ loc: Array<string | number>; msg: string; type: string }> {
  const problems: Array<{ loc: Array<string | number>; msg: string; type: string }> = []
  messages.forEach((message, index) => {
    const { role, parts } = (message ?? {}) as { role?: unknown; parts?: unknown }
    if (!Array.isArray(parts)) return
    parts.forEach((part: { type?: unknown; toolCallId?: unknown; state?: unknown } | null, partIndex) => {
      const type = typeof part?.type === 'string' ? part.type : ''
      const loc = ['body', 'messages', index, 'parts', partIndex]
      const isTool = type.startsWith('tool-') || type === 'dynamic-tool'
      if (role === 'user' && type !== 'text' && !type.startsWith('data-'))
        problems.push({ loc, msg: "Input should be a valid text part ('type' 'text')", type: 'union_tag_invalid' })
      if (role === 'assistant' && isTool) {
        if (typeof part?.toolCallId !== 'string') problems.push({ loc: [...loc, 'toolCallId'], msg: 'Field required', type: 'missing' })
        if (part?.state !== undefined && !STATES.has(String(part.state)))
          problems.push({ loc: [...loc, 'state'], msg: `Input should be ${[...STATES].map((s) => `'${s}'`).join(', ')}`, type: 'enum' })
      }
    })
  })
  return problems
}
