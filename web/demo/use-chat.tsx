/**
 * DEMO: the AI SDK's `useChat` (React, `@ai-sdk/react`, ai 5 and later) talking to Agent Studio
 * through the gateway, with stop, regenerate, resume and errors shown as docs/frontend.md recommends,
 * plus what a product page has around the chat: a history panel (list, open, delete, new),
 * thumbs on each answer, and a conversation that survives a reload.
 *
 * The page's signals (for people and for tests): `#app[data-state]` is `loading` until the
 * conversation is restored, then `ready`; `#status[data-status]` is useChat's status; an answer
 * is `li.assistant[data-done]` once its stream finished; `#history[data-state]` is `ready` after
 * each load of the list.
 */
import { useChat } from '@ai-sdk/react'
import { DefaultChatTransport } from 'ai'
import type { UIMessage } from 'ai'
import { useCallback, useEffect, useRef, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { describeGatewayError } from '../shared/gateway-error.js'
import type { GatewayErrorView } from '../shared/gateway-error.js'
import { gatewayFetch, retryAfterOf } from '../shared/gateway-fetch.js'
import { signInAgainHref } from '../shared/demo-user.js'

const agentId = document.body.dataset.agentId!
const base = `/agent-studio/1/agents/${encodeURIComponent(agentId)}`
const PAGE = '/demo/use-chat'

const transport = new DefaultChatTransport({
  // Same origin here; for another origin use the gateway's full URL and list the page's
  // origin in ALLOWED_ORIGINS.
  api: `${base}/completions?compatibilityMode=ai-sdk-5`,
  credentials: 'include',
  // Notes each refusal's retry-after, which the error useChat reports does not carry.
  fetch: gatewayFetch
})

/** One conversation per tab, kept across reloads: the gateway keeps it apart from every other user's. */
const CHAT_ID_KEY = 'demo-chat-id'
const newChatId = () => crypto.randomUUID().replaceAll('-', '')

type Vote = 0 | 1 | 'sending'
interface Opened {
  readonly id: string
  readonly messages: UIMessage[]
  readonly votes: ReadonlyMap<string, Vote>
}
interface ConversationSummary {
  id: string
  title: string | null
}
interface StoredConversation {
  messages: Array<{ id: string; role: UIMessage['role']; parts: UIMessage['parts'] }>
  feedback?: Array<{ messageId: string; vote: 0 | 1 }>
}

/** useChat's status in words; an error says itself below, once. */
const STATUS_TEXT: Record<'submitted' | 'streaming' | 'ready' | 'error', string> = {
  submitted: 'Sending…',
  streaming: 'The agent is answering…',
  ready: '',
  error: ''
}

const describe = (error: Error) => describeGatewayError(error, retryAfterOf)

/** The page's own calls (history, conversation, votes), with the gateway's refusal described. */
async function call(
  path: string,
  init: RequestInit = {}
): Promise<{ response: Response; problem?: undefined } | { response: Response; problem: GatewayErrorView }> {
  const response = await gatewayFetch(path, { credentials: 'include', ...init })
  if (response.ok) return { response }
  return { response, problem: describe(new Error(await response.text())) }
}

/**
 * A conversation as the gateway's `GET …/conversations/{id}` returns it (with its votes). A
 * conversation Agent Studio has not stored yet (nothing sent, or sent to no avail) is 404: an
 * empty one. After a reload in the middle of an answer it holds every finished turn and the
 * question whose answer was cut off.
 */
async function loadConversation(id: string): Promise<{ opened: Opened; problem?: GatewayErrorView }> {
  const { response, problem } = await call(`${base}/conversations/${encodeURIComponent(id)}?includeFeedback=true`)
  if (problem !== undefined) return { opened: { id, messages: [], votes: new Map() }, ...(response.status === 404 ? {} : { problem }) }
  const conversation = (await response.json()) as StoredConversation
  return {
    opened: {
      id,
      messages: conversation.messages.map(({ id: messageId, role, parts }) => ({ id: messageId, role, parts })),
      votes: new Map((conversation.feedback ?? []).map(({ messageId, vote }) => [messageId, vote]))
    }
  }
}

function App() {
  const [opened, setOpened] = useState<Opened | undefined>(undefined)
  const [history, setHistory] = useState<ConversationSummary[] | undefined>(undefined)
  const [problem, setProblem] = useState<GatewayErrorView | undefined>(undefined)

  const refreshHistory = useCallback(async () => {
    const { response, problem: refused } = await call(`${base}/conversations?limit=20`)
    if (refused !== undefined) {
      setProblem(refused)
      setHistory([])
      return
    }
    setHistory(((await response.json()) as { data: ConversationSummary[] }).data)
  }, [])

  const open = useCallback(async (id: string) => {
    setOpened(undefined)
    const loaded = await loadConversation(id)
    sessionStorage.setItem(CHAT_ID_KEY, id)
    setProblem(loaded.problem)
    setOpened(loaded.opened)
  }, [])

  const startNew = useCallback(() => {
    const id = newChatId()
    sessionStorage.setItem(CHAT_ID_KEY, id)
    setProblem(undefined)
    setOpened({ id, messages: [], votes: new Map() })
  }, [])

  const remove = useCallback(
    async (id: string) => {
      const { problem: refused } = await call(`${base}/conversations/${encodeURIComponent(id)}`, { method: 'DELETE' })
      if (refused !== undefined) return setProblem(refused)
      if (opened?.id === id) startNew()
      await refreshHistory()
    },
    [opened, startNew, refreshHistory]
  )

  useEffect(() => {
    void open(sessionStorage.getItem(CHAT_ID_KEY) ?? newChatId())
    void refreshHistory()
  }, [open, refreshHistory])

  return (
    <div className="layout">
      <aside>
        <h2>Your conversations</h2>
        <p>
          <button type="button" id="new-chat" onClick={startNew}>
            New conversation
          </button>{' '}
          <button type="button" id="history-refresh" onClick={() => void refreshHistory()}>
            Refresh
          </button>
        </p>
        <ul id="history" data-state={history === undefined ? 'loading' : 'ready'}>
          {history?.length === 0 && <li className="history-empty">No conversations yet.</li>}
          {history?.map((conversation) => (
            <li key={conversation.id} data-id={conversation.id} className={conversation.id === opened?.id ? 'current' : undefined}>
              <button type="button" className="history-open" onClick={() => void open(conversation.id)}>
                {conversation.title ?? conversation.id}
              </button>{' '}
              <button type="button" className="history-delete" title="Delete this conversation" onClick={() => void remove(conversation.id)}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      </aside>
      <main id="app" data-state={opened === undefined ? 'loading' : 'ready'}>
        {problem !== undefined && <Problem id="problem" view={problem} onDismiss={() => setProblem(undefined)} />}
        {opened === undefined ? (
          <p className="loading">Loading the conversation…</p>
        ) : (
          <Chat key={opened.id} opened={opened} onAnswered={() => void refreshHistory()} onProblem={setProblem} />
        )}
      </main>
    </div>
  )
}

function Chat({ opened, onAnswered, onProblem }: { opened: Opened; onAnswered: () => void; onProblem: (view: GatewayErrorView) => void }) {
  // resume: true probes GET …/completions/{id}/stream on load; the gateway answers 204.
  const { messages, sendMessage, status, stop, regenerate, error, clearError } = useChat({ id: opened.id, messages: opened.messages, transport, resume: true })
  const [input, setInput] = useState('')
  const [votes, setVotes] = useState<ReadonlyMap<string, Vote>>(opened.votes)
  const [waiting, setWaiting] = useState(false)
  const busy = status === 'submitted' || status === 'streaming'
  const failure = error === undefined ? undefined : describe(error)

  // The history panel shows a new conversation (and its title) once its first answer is done.
  const answered = useRef(onAnswered)
  answered.current = onAnswered
  const hasMessages = messages.length > 0
  useEffect(() => {
    if (status === 'ready' && hasMessages) answered.current()
  }, [status, hasMessages])

  // 429: Send stays disabled for the response's retry-after.
  const waitSeconds = failure?.action === 'wait' ? failure.retryInSeconds : undefined
  useEffect(() => {
    if (waitSeconds === undefined) return
    setWaiting(true)
    const timer = setTimeout(() => setWaiting(false), waitSeconds * 1000)
    return () => clearTimeout(timer)
  }, [error, waitSeconds])

  async function vote(messageId: string, value: 0 | 1) {
    setVotes((current) => new Map(current).set(messageId, 'sending'))
    const { problem } = await call('/agent-studio/1/feedback', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messageId, agentId, vote: value })
    })
    setVotes((current) => {
      const next = new Map(current)
      if (problem === undefined) next.set(messageId, value)
      else next.delete(messageId)
      return next
    })
    if (problem !== undefined) onProblem(problem)
  }

  const last = messages.at(-1)
  // A reload in the middle of an answer leaves the question without it (Agent Studio stores an
  // answer once it is complete): say so, and offer to ask again.
  const interrupted = status === 'ready' && error === undefined && last?.role === 'user'

  return (
    <>
      {messages.length === 0 && <p className="empty">Ask the agent something: try "[search] trail shoes", "[cut]" or "[fail]".</p>}
      <ol id="messages">
        {messages.map((message, index) => {
          const streaming = busy && index === messages.length - 1 && message.role === 'assistant'
          const voted = votes.get(message.id)
          return (
            <li key={message.id} className={message.role} data-message-id={message.id} data-done={message.role === 'assistant' && !streaming ? '' : undefined}>
              <b>{message.role === 'user' ? 'You' : 'Agent'}:</b>{' '}
              {message.parts.map((part, partIndex) => (part.type === 'text' ? <span key={partIndex}>{part.text}</span> : null))}
              {message.role === 'assistant' && !streaming && (
                <span className="thumbs">
                  {voted === undefined ? (
                    <>
                      <button type="button" className="thumb" data-vote="1" title="This answer helped" onClick={() => void vote(message.id, 1)}>
                        Helpful
                      </button>{' '}
                      <button type="button" className="thumb" data-vote="0" title="This answer did not help" onClick={() => void vote(message.id, 0)}>
                        Not helpful
                      </button>
                    </>
                  ) : (
                    <small className="voted" data-vote={String(voted)}>
                      {voted === 'sending' ? 'Sending…' : 'Thanks for the feedback'}
                    </small>
                  )}
                </span>
              )}
            </li>
          )
        })}
      </ol>
      {interrupted && (
        <p id="interrupted">
          The last answer was interrupted.{' '}
          <button type="button" onClick={() => void regenerate()}>
            Ask again
          </button>
        </p>
      )}
      <p id="status" className="status" data-status={status}>
        {STATUS_TEXT[status]}
      </p>
      {failure !== undefined && <Problem id="error" view={failure} onRetry={() => void regenerate()} onDismiss={clearError} />}
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
        <button id="send" type="submit" disabled={busy || waiting}>
          Send
        </button>
        <button id="stop" type="button" disabled={!busy} onClick={() => void stop()}>
          Stop
        </button>
        <button id="regenerate" type="button" disabled={busy || messages.length === 0} onClick={() => void regenerate()}>
          Regenerate
        </button>
      </form>
    </>
  )
}

/** One failure, one message: the gateway's own words and the action they imply. */
function Problem({ id, view, onRetry, onDismiss }: { id: string; view: GatewayErrorView; onRetry?: () => void; onDismiss: () => void }) {
  return (
    <div id={id} role="alert" data-action={view.action} data-code={view.code ?? ''}>
      <span className="problem-text">{view.text}</span> <span className="problem-hint">{view.hint}</span>{' '}
      {view.action === 'sign-in' && <a href={signInAgainHref(PAGE)}>Sign in again</a>}
      {view.action === 'retry' && onRetry !== undefined && (
        <button type="button" className="retry" onClick={onRetry}>
          Try again
        </button>
      )}
      {view.action !== 'sign-in' && (
        <button type="button" className="dismiss" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  )
}

createRoot(document.getElementById('root')!).render(<App />)
