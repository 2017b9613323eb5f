/**
 * The chat page of the cross-site example: useChat (ai 5 and later) with a bearer token from
 * the transport's `headers` function, which the AI SDK calls before every request. The token
 * comes from the app's own backend and is kept in memory only (never in localStorage), and
 * fetched again shortly before it expires.
 */
import { useChat } from '@ai-sdk/react'
import { DefaultChatTransport } from 'ai'
import { useState } from 'react'
import { createRoot } from 'react-dom/client'

const { gatewayUrl, agentId } = document.body.dataset as { gatewayUrl: string; agentId: string }

let cached: { token: string; expiresAt: number } | undefined
async function chatToken(): Promise<string> {
  if (cached === undefined || cached.expiresAt - 30 < Date.now() / 1000) {
    // Same-origin call to the app's backend: its first-party session cookie goes along.
    const response = await fetch('/api/chat-token', { method: 'POST' })
    if (!response.ok) throw new Error(JSON.stringify({ error: 'session_required', message: 'Sign in first.' }))
    cached = (await response.json()) as { token: string; expiresAt: number }
  }
  return cached.token
}

const transport = new DefaultChatTransport({
  api: `${gatewayUrl}/agent-studio/1/agents/${agentId}/completions?compatibilityMode=ai-sdk-5`,
  headers: async () => ({ authorization: `Bearer ${await chatToken()}` }),
  // No cookie is needed (and none would be sent cross-site anyway).
  credentials: 'omit'
})

/** The gateway's errors are JSON `{ error, message, requestId }`: show the message (see docs/frontend.md, Errors, for each code). */
function errorText(error: Error): string {
  try {
    return (JSON.parse(error.message) as { message: string }).message
  } catch {
    return error.message
  }
}

function Chat() {
  const { messages, sendMessage, status, error } = useChat({ transport })
  const [input, setInput] = useState('')
  return (
    <>
      {messages.map((message) => (
        <p key={message.id} className={message.role}>
          {message.role === 'user' ? 'You: ' : 'Agent: '}
          {message.parts.map((part) => (part.type === 'text' ? part.text : '')).join('')}
        </p>
      ))}
      {error !== undefined && <p role="alert">{errorText(error)}</p>}
      <form
        onSubmit={(event) => {
          event.preventDefault()
          void sendMessage({ text: input })
          setInput('')
        }}
      >
        <input id="question" value={input} onChange={(event) => setInput(event.target.value)} />
        <button id="send" disabled={status === 'submitted' || status === 'streaming'}>
          Send
        </button>
      </form>
    </>
  )
}

createRoot(document.getElementById('app')!).render(<Chat />)
