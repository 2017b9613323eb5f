import { DefaultChatTransport, readUIMessageStream } from 'ai'
import type { UIMessage } from 'ai'
import { AGENT_ID, sessionToken } from './fixtures.js'

export interface ChatTurn {
  /** The assistant message as the AI SDK assembled it from the stream. */
  readonly message: UIMessage | undefined
  /** The gateway's response headers. */
  readonly headers: Headers
  readonly status: number
  /** Errors the AI SDK reported while reading the stream. */
  readonly errors: unknown[]
}

/**
 * One chat turn through the gateway with the real AI SDK client: `DefaultChatTransport` (what
 * `useChat` and InstantSearch's chat use) sends, `readUIMessageStream` parses and assembles.
 */
export async function chatTurn(options: {
  gatewayUrl: string
  user: string
  messages: UIMessage[]
  trigger?: 'submit-message' | 'regenerate-message'
  chatId?: string
  query?: string
  agentId?: string
}): Promise<ChatTurn> {
  let seen: Response | undefined
  const transport = new DefaultChatTransport<UIMessage>({
    api: `${options.gatewayUrl}/agent-studio/1/agents/${options.agentId ?? AGENT_ID}/completions?compatibilityMode=ai-sdk-5${options.query ?? ''}`,
    headers: { authorization: `Bearer ${await sessionToken(options.user)}` },
    fetch: async (input, init) => {
      seen = await fetch(input, init)
      return seen
    }
  })
  const stream = await transport.sendMessages({
    trigger: options.trigger ?? 'submit-message',
    chatId: options.chatId ?? 'chat0000000000001',
    messageId: options.trigger === 'regenerate-message' ? 'last-assistant' : undefined,
    messages: options.messages,
    abortSignal: undefined
  })
  const errors: unknown[] = []
  let message: UIMessage | undefined
  for await (const snapshot of readUIMessageStream<UIMessage>({ stream, onError: (error) => errors.push(error) })) message = snapshot
  return { message, headers: seen!.headers, status: seen!.status, errors }
}

export const userTurn = (id: string, text: string): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] })
