import type { CompatibilityMode } from '../config/types.js'

/** The wire format of one streamed answer, per compatibility mode, as Agent Studio sends it. */
export interface AnswerProtocol {
  readonly headers: Record<string, string>
  readonly open: (messageId: string) => string[]
  readonly delta: (messageId: string, text: string) => string
  readonly close: (messageId: string) => string[]
}

const sse = (event: unknown) => `data: ${JSON.stringify(event)}\n\n`

export const ANSWER_PROTOCOLS: Record<CompatibilityMode, AnswerProtocol> = {
  'ai-sdk-5': {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-vercel-ai-ui-message-stream': 'v1' },
    open: (messageId) => [sse({ type: 'start', messageId }), sse({ type: 'start-step' }), sse({ type: 'text-start', id: 'text-1' })],
    delta: (_messageId, text) => sse({ type: 'text-delta', id: 'text-1', delta: text }),
    close: () => [sse({ type: 'text-end', id: 'text-1' }), sse({ type: 'finish-step' }), sse({ type: 'finish' }), 'data: [DONE]\n\n']
  },
  'ai-sdk-4': {
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'x-vercel-ai-data-stream': 'v1' },
    open: (messageId) => [`f:${JSON.stringify({ messageId })}\n`],
    delta: (_messageId, text) => `0:${JSON.stringify(text)}\n`,
    close: () => [
      `e:${JSON.stringify({ finishReason: 'stop', usage: { promptTokens: 12, completionTokens: 24 }, isContinued: false })}\n`,
      `d:${JSON.stringify({ finishReason: 'stop', usage: { promptTokens: 12, completionTokens: 24 } })}\n`
    ]
  },
  'ag-ui': {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    open: (messageId) => [sse({ type: 'RUN_STARTED', threadId: 'thread-1', runId: messageId }), sse({ type: 'TEXT_MESSAGE_START', messageId, role: 'assistant' })],
    delta: (messageId, text) => sse({ type: 'TEXT_MESSAGE_CONTENT', messageId, delta: text }),
    close: (messageId) => [sse({ type: 'TEXT_MESSAGE_END', messageId }), sse({ type: 'RUN_FINISHED', threadId: 'thread-1', runId: messageId })]
  }
}

/** The text of the last user message, whatever the message shape (AI SDK 4 `content` or 5 `parts`). */
export function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return ''
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as { role?: unknown; content?: unknown; parts?: unknown }
    if (message?.role !== 'user') continue
    if (typeof message.content === 'string') return message.content
    if (Array.isArray(message.parts)) {
      return message.parts
        .map((part: { type?: unknown; text?: unknown }) => (part?.type === 'text' && typeof part.text === 'string' ? part.text : ''))
        .join('')
    }
  }
  return ''
}

/** A short, deterministic reply split into the pieces that are streamed one event each. */
export function answerPieces(question: string): string[] {
  const quoted = question.length > 80 ? `${question.slice(0, 80)}…` : question
  const sentence = `You asked: "${quoted}". This answer comes from the Agent Studio stand-in, streamed word by word through the gateway.`
  return sentence.split(/(?<= )/)
}
