import type { CompatibilityMode } from './compatibility-modes.js'
import { answerText } from './answer-plan.js'
import type { AnswerPlan } from './answer-plan.js'

/**
 * An answer plan written in each compatibility mode's wire format, one string per event.
 * - `ai-sdk-5`: the AI SDK 5 UI message stream (SSE, `x-vercel-ai-ui-message-stream: v1`),
 *   chunk types as the `ai` package's `uiMessageChunkSchema` defines them.
 * - `ai-sdk-4`: the AI SDK 4 data stream protocol (`x-vercel-ai-data-stream: v1`): `f` step
 *   start, `g` reasoning, `b`/`c`/`9` tool call start, delta, call, `a` tool result, `0` text,
 *   `2` data, `8` annotations, `e` step finish, `d` finish.
 * - `ag-ui`: AG-UI events over SSE (ag-ui-protocol/ag-ui's core event types), with the
 *   request's `threadId` and `runId` echoed (AguiCompletionRequest in Algolia's spec).
 */
export interface RunIds {
  readonly threadId: string
  readonly runId: string
}

export const STREAM_HEADERS: Record<CompatibilityMode, Record<string, string>> = {
  'ai-sdk-5': { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-vercel-ai-ui-message-stream': 'v1' },
  'ai-sdk-4': { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'x-vercel-ai-data-stream': 'v1' },
  'ag-ui': { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }
}

const sse = (event: unknown) => `data: ${JSON.stringify(event)}\n\n`
const line = (code: string, value: unknown) => `${code}:${JSON.stringify(value)}\n`

export function renderStream(mode: CompatibilityMode, plan: AnswerPlan, ids: RunIds): string[] {
  if (mode === 'ai-sdk-4') return dataStreamV4(plan)
  if (mode === 'ag-ui') return agUi(plan, ids)
  return uiMessageStream(plan)
}

function uiMessageStream(plan: AnswerPlan): string[] {
  const out = [sse({ type: 'start', messageId: plan.messageId, messageMetadata: { model: plan.metadata.model } })]
  plan.steps.forEach((step, index) => {
    out.push(sse({ type: 'start-step' }))
    if (step.reasoning !== undefined) {
      const id = `reasoning-${index + 1}`
      out.push(sse({ type: 'reasoning-start', id }), sse({ type: 'reasoning-delta', id, delta: step.reasoning }), sse({ type: 'reasoning-end', id }))
    }
    if (step.tool !== undefined) {
      const { toolCallId, toolName, input, output } = step.tool
      out.push(
        sse({ type: 'tool-input-start', toolCallId, toolName }),
        sse({ type: 'tool-input-delta', toolCallId, inputTextDelta: JSON.stringify(input) }),
        sse({ type: 'tool-input-available', toolCallId, toolName, input })
      )
      if (output !== undefined) out.push(sse({ type: 'tool-output-available', toolCallId, output }))
    }
    for (const part of step.data ?? []) out.push(sse(part))
    if (step.text !== undefined) {
      const id = `text-${index + 1}`
      out.push(sse({ type: 'text-start', id }), ...step.text.map((delta) => sse({ type: 'text-delta', id, delta })), sse({ type: 'text-end', id }))
    }
    out.push(sse({ type: 'finish-step' }))
  })
  if (plan.suggestions !== undefined) out.push(sse({ type: 'data-suggestions', data: { suggestions: plan.suggestions } }))
  // isCacheHit: MessageResponse.yml's flag for an answer from the completion cache (issue 24).
  out.push(
    sse({ type: 'message-metadata', messageMetadata: { usage: plan.metadata.usage, ...(plan.metadata.isCacheHit === true ? { isCacheHit: true } : {}) } }),
    sse({ type: 'finish' }),
    'data: [DONE]\n\n'
  )
  return out
}

function dataStreamV4(plan: AnswerPlan): string[] {
  const usage = usageV4(plan.metadata.usage)
  const out: string[] = []
  plan.steps.forEach((step, index) => {
    out.push(line('f', { messageId: plan.messageId }))
    if (step.reasoning !== undefined) out.push(line('g', step.reasoning))
    if (step.tool !== undefined) {
      const { toolCallId, toolName, input, output } = step.tool
      out.push(
        line('b', { toolCallId, toolName }),
        line('c', { toolCallId, argsTextDelta: JSON.stringify(input) }),
        line('9', { toolCallId, toolName, args: input })
      )
      if (output !== undefined) out.push(line('a', { toolCallId, result: output }))
    }
    for (const piece of step.text ?? []) out.push(line('0', piece))
    const last = index === plan.steps.length - 1
    out.push(line('e', { finishReason: last ? plan.finishReason : 'tool-calls', usage, isContinued: false }))
  })
  if (plan.suggestions !== undefined) out.push(line('2', [{ type: 'suggestions', suggestions: plan.suggestions }]))
  out.push(line('d', { finishReason: plan.finishReason, usage }))
  return out
}

function agUi(plan: AnswerPlan, ids: RunIds): string[] {
  const out = [sse({ type: 'RUN_STARTED', threadId: ids.threadId, runId: ids.runId })]
  for (const step of plan.steps) {
    if (step.tool !== undefined) {
      const { toolCallId, toolName, input, output } = step.tool
      out.push(
        sse({ type: 'TOOL_CALL_START', toolCallId, toolCallName: toolName, parentMessageId: plan.messageId }),
        sse({ type: 'TOOL_CALL_ARGS', toolCallId, delta: JSON.stringify(input) }),
        sse({ type: 'TOOL_CALL_END', toolCallId })
      )
      if (output !== undefined)
        out.push(sse({ type: 'TOOL_CALL_RESULT', messageId: `${plan.messageId}_tool`, toolCallId, content: JSON.stringify(output), role: 'tool' }))
    }
    if (step.text !== undefined) {
      out.push(
        sse({ type: 'TEXT_MESSAGE_START', messageId: plan.messageId, role: 'assistant' }),
        ...step.text.map((delta) => sse({ type: 'TEXT_MESSAGE_CONTENT', messageId: plan.messageId, delta })),
        sse({ type: 'TEXT_MESSAGE_END', messageId: plan.messageId })
      )
    }
  }
  out.push(sse({ type: 'RUN_FINISHED', threadId: ids.threadId, runId: ids.runId }))
  return out
}

/**
 * `stream=false` answers, in each mode's real shape (the spec's AssistantMessageV5Response:
 * `{ role, parts: [{ type: "step-start" }, { type: "text", text }] }`; AssistantMessageV4Response:
 * the text as `content`), plus `id` and `usage`.
 */
export function renderJson(mode: CompatibilityMode, plan: AnswerPlan): Record<string, unknown> {
  const usage = mode === 'ai-sdk-4' ? usageV4(plan.metadata.usage) : plan.metadata.usage
  if (mode === 'ai-sdk-4') {
    const toolInvocations = plan.steps.flatMap((step) =>
      step.tool === undefined
        ? []
        : [
            {
              state: step.tool.output === undefined ? 'call' : 'result',
              toolCallId: step.tool.toolCallId,
              toolName: step.tool.toolName,
              args: step.tool.input,
              ...(step.tool.output === undefined ? {} : { result: step.tool.output })
            }
          ]
    )
    return { id: plan.messageId, role: 'assistant', content: answerText(plan), ...(toolInvocations.length > 0 ? { toolInvocations } : {}), usage }
  }
  const parts: Array<Record<string, unknown>> = []
  for (const step of plan.steps) {
    parts.push({ type: 'step-start' })
    if (step.reasoning !== undefined) parts.push({ type: 'reasoning', text: step.reasoning })
    if (step.tool !== undefined) {
      const { toolCallId, toolName, input, output } = step.tool
      parts.push({
        type: `tool-${toolName}`,
        toolCallId,
        state: output === undefined ? 'input-available' : 'output-available',
        input,
        ...(output === undefined ? {} : { output })
      })
    }
    if (step.text !== undefined) parts.push({ type: 'text', text: step.text.join('') })
  }
  if (plan.suggestions !== undefined) parts.push({ type: 'data-suggestions', data: { suggestions: plan.suggestions } })
  return { id: plan.messageId, role: 'assistant', parts, usage }
}

/** UsageV4.yml's names for UsageV5.yml's counts (issue 24): promptTokens, completionTokens, reasoningTokens, totalTokens. */
function usageV4(usage: unknown): Record<string, unknown> {
  const u = (usage ?? {}) as { inputTokens?: number; outputTokens?: number; reasoningTokens?: number; totalTokens?: number }
  return { promptTokens: u.inputTokens ?? 0, completionTokens: u.outputTokens ?? 0, reasoningTokens: u.reasoningTokens ?? 0, totalTokens: u.totalTokens ?? 0 }
}
