/**
 * DEMO: the AI SDK's `useChat` (React, `@ai-sdk/react`, ai 5 and later) talking to Agent Studio
 * through the gateway, with stop, regenerate, resume and errors shown as the README recommends.
 */
import { useChat } from '@ai-sdk/react'
import { DefaultChatTransport } from 'ai'
import { useState } from 'react'
import { createRoot } from 'react-dom/client'
import { describeGatewayError } from '../shared/gateway-error.js'

const agentId = document.body.dataset.agentId!

const transport = new DefaultChatTransport({
  // Same origin here; for another origin use the gateway's full URL and list the page's
  // origin in ALLOWED_ORIGINS.
  api: `/agent-studio/1/agents/${encodeURIComponent(agentId)}/completions?compatibilityMode=ai-sdk-5`,
  credentials: 'include'
})

// One chat id per tab: the gateway keeps it apart from every other user's.
const chatId = sessionStorage.getItem('demo-chat-id') ?? crypto.randomUUID().replaceAll('-', '')
sessionStorage.setItem('demo-chat-id', chatId)

function App() {
  // resume: true probes GET …/completions/{id}/stream on load; the gateway answers 204.
  const { messages, sendMessage, status, stop, regenerate, error, clearError } = useChat({ id: chatId, transport, resume: true })
  const [input, setInput] = useState('')
  const busy = status === 'submitted' || status === 'streaming'
  const problem = error === undefined ? undefined : describeGatewayError(error)

  return (
    <>
      <ol id="messages">
        {messages.map((message) => (
          <li key={message.id} className={message.role} data-message-id={message.id}>
            <b>{message.role === 'user' ? 'You' : 'Agent'}:</b>{' '}
            {message.parts.map((part, index) => (part.type === 'text' ? <span key={index}>{part.text}</span> : null))}
          </li>
        ))}
      </ol>
      <p id="status" data-status={status}>{status}</p>
      {problem !== undefined && (
        <div id="error" role="alert" data-action={problem.action} data-code={problem.code ?? ''}>
          {problem.text}{' '}
          {problem.action === 'sign-in' && <a href="/demo/login?user=alice&next=/demo/use-chat">Sign in again</a>}
          {problem.action === 'retry' && <button type="button" id="retry" onClick={() => void regenerate()}>Try again</button>}
          {problem.action !== 'sign-in' && <button type="button" id="dismiss" onClick={clearError}>Dismiss</button>}
          {problem.requestId !== undefined && <small> (request {problem.requestId})</small>}
        </div>
      )}
      <form
        id="chat"
        onSubmit={(event) => {
          event.preventDefault()
          if (input.trim() === '') return
          void sendMessage({ text: input })
          setInput('')
        }}
      >
        <input id="question" value={input} onChange={(event) => setInput(event.target.value)} placeholder="Ask the agent something" autoComplete="off" />
        <button id="send" type="submit" disabled={busy}>Send</button>
        <button id="stop" type="button" disabled={!busy} onClick={() => void stop()}>Stop</button>
        <button id="regenerate" type="button" disabled={busy || messages.length === 0} onClick={() => void regenerate()}>Regenerate</button>
      </form>
    </>
  )
}

createRoot(document.getElementById('app')!).render(<App />)
