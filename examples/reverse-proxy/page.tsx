/**
 * The chat page of the reverse-proxy example: useChat (ai 5 and later) with a relative URL.
 * Same origin, so the default `credentials: 'same-origin'` sends the session cookie, and no
 * CORS is involved.
 */
import { useChat } from '@ai-sdk/react'
import { DefaultChatTransport } from 'ai'
import { useState } from 'react'
import { createRoot } from 'react-dom/client'

const { agentId } = document.body.dataset as { agentId: string }

const transport = new DefaultChatTransport({
  api: `/agent-studio/1/agents/${agentId}/completions?compatibilityMode=ai-sdk-5`
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
