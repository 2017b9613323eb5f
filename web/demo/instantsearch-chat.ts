/**
 * DEMO: the InstantSearch.js `chat` widget talking to Agent Studio through the gateway.
 *
 * What makes the widget work through a gateway (InstantSearch.js 4.118):
 * - `transport` mode, never `agentId` mode: `agentId` makes the widget call
 *   https://APPID.algolia.net itself with the search client's API key.
 * - `credentials: 'include'` on the transport, so the app's session cookie goes along.
 * - A search client with dummy but non-empty credentials (the widget reads them at start),
 *   and `requiresSearch: false`, so InstantSearch never sends a search of its own to Algolia.
 * - No custom headers such as X-Session-Id: each one must be allowed by the gateway's CORS
 *   (CORS_ALLOWED_HEADERS) for a cross-origin page, and none is needed: the cookie is the session.
 * - Thumbs: the widget's built-in feedback exists only in `agentId` mode, so the `actions`
 *   template adds our own, posting to the gateway's /agent-studio/1/feedback.
 */
import { liteClient } from 'algoliasearch/lite'
import instantsearch from 'instantsearch.js'
import { chat } from 'instantsearch.js/es/widgets'
import 'instantsearch.css/themes/satellite-min.css'

const agentId = document.body.dataset.agentId!
const base = `/agent-studio/1/agents/${encodeURIComponent(agentId)}`
const banner = document.getElementById('status')!

/** The gateway's answers, seen through the transport's fetch: status, error code, retry-after. */
const gatewayFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init)
  if (response.ok) {
    showStatus('')
  } else {
    const body = await response.clone().json().catch(() => ({})) as { error?: string; message?: string; requestId?: string }
    showGatewayError(response.status, body, response.headers.get('retry-after'))
  }
  return response
}

function showGatewayError(status: number, body: { error?: string; message?: string; requestId?: string }, retryAfter: string | null) {
  if (status === 401) {
    showStatus('Your session has ended. ', { href: '/demo/login?user=alice&next=/demo/instantsearch', text: 'Sign in again' })
  } else if (status === 429) {
    showStatus(`Too many messages: wait ${retryAfter ?? 'a few'} seconds before sending again.`)
  } else if (status >= 500) {
    showStatus('The assistant is unavailable for a moment. Try again.')
  } else {
    showStatus(`${body.message ?? 'Request refused'} (${body.error ?? status}, request ${body.requestId ?? '?'})`)
  }
  banner.dataset.code = body.error ?? String(status)
}

function showStatus(text: string, link?: { href: string; text: string }) {
  banner.textContent = text
  banner.hidden = text === ''
  if (text === '') delete banner.dataset.code
  if (link !== undefined) {
    const a = document.createElement('a')
    a.href = link.href
    a.textContent = link.text
    banner.append(a)
  }
}

// A conversation opened from the history panel: the widget keeps its own chat id (and offers
// no way to set it), so the transport sends the opened one instead, until "Clear" starts a
// new conversation.
let opened: string | undefined
document.getElementById('chat')!.addEventListener('click', (event) => {
  if ((event.target as Element).closest('.ais-ChatHeader-clear') !== null) opened = undefined
}, { capture: true })

const search = instantsearch({
  indexName: 'unused',
  // Never called (requiresSearch: false); the widget only needs non-empty credentials.
  searchClient: liteClient('not-used', 'not-used')
})

const votes = new Map<string, 0 | 1 | 'sending' | 'failed'>()

search.addWidgets([
  chat({
    container: '#chat',
    requiresSearch: false,
    persistence: false,
    transport: {
      api: `${base}/completions?compatibilityMode=ai-sdk-5`,
      credentials: 'include',
      fetch: gatewayFetch,
      prepareSendMessagesRequest: ({ id, messages, trigger, messageId }) => ({
        body: { id: opened ?? id, messages, trigger, messageId }
      })
    },
    templates: {
      actions: ({ actions, message }, { html }) => {
        if (message.role !== 'assistant') return ''
        const vote = votes.get(message.id)
        const thumbs = vote === undefined || vote === 'failed'
          ? html`<button type="button" class="demo-thumb" data-vote="1" title="Helpful" onClick=${() => sendVote(message.id, 1)}>Helpful</button>
                 <button type="button" class="demo-thumb" data-vote="0" title="Not helpful" onClick=${() => sendVote(message.id, 0)}>Not helpful</button>`
          : html`<span class="demo-voted">${vote === 'sending' ? 'Sending…' : 'Thanks for the feedback'}</span>`
        return html`<div class="demo-actions">
          ${actions.map((action) => html`<button type="button" class="ais-ChatMessage-action" title=${action.title} disabled=${action.disabled} onClick=${() => action.onClick?.(message)}>${action.icon?.()}</button>`)}
          ${thumbs}
        </div>`
      }
    }
  })
])
search.start()

function chatState() {
  return search.renderState[search.indexName]!.chat!
}

/** Custom thumbs: the gateway's feedback route (any 2xx is success). */
async function sendVote(messageId: string, vote: 0 | 1) {
  votes.set(messageId, 'sending')
  rerender()
  const response = await fetch('/agent-studio/1/feedback', {
    method: 'POST',
    credentials: 'include',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messageId, agentId, vote })
  })
  votes.set(messageId, response.ok ? vote : 'failed')
  if (!response.ok) showGatewayError(response.status, await response.json().catch(() => ({})), response.headers.get('retry-after'))
  rerender()
}

/** Renders the widget again so the actions template shows the vote (the render state's own `messages` may be stale). */
function rerender() {
  chatState().setMessages((messages) => [...messages])
}

// --- Conversation history panel: list, open, delete, all through the gateway --------------
const list = document.getElementById('history-list')!
document.getElementById('history-refresh')!.addEventListener('click', () => void loadHistory())
document.getElementById('open-chat')!.addEventListener('click', () => chatState().setOpen(true))

interface ConversationSummary { id: string; title: string | null; updatedAt?: string }

async function loadHistory() {
  const response = await gatewayFetch(`${base}/conversations?limit=20`, { credentials: 'include' })
  if (!response.ok) return
  const { data } = await response.json() as { data: ConversationSummary[] }
  list.replaceChildren(...data.map((conversation) => {
    const item = document.createElement('li')
    item.dataset.id = conversation.id
    const open = document.createElement('button')
    open.type = 'button'
    open.className = 'history-open'
    open.textContent = conversation.title ?? conversation.id
    open.addEventListener('click', () => void openConversation(conversation.id))
    const remove = document.createElement('button')
    remove.type = 'button'
    remove.className = 'history-delete'
    remove.textContent = 'Delete'
    remove.addEventListener('click', () => void deleteConversation(conversation.id))
    item.append(open, ' ', remove)
    return item
  }))
  if (data.length === 0) list.replaceChildren(Object.assign(document.createElement('li'), { textContent: 'No conversations yet.' }))
}

async function openConversation(conversationId: string) {
  const response = await gatewayFetch(`${base}/conversations/${encodeURIComponent(conversationId)}`, { credentials: 'include' })
  if (!response.ok) return
  const conversation = await response.json() as { messages: Array<{ id: string; role: 'user' | 'assistant'; parts: Array<{ type: 'text'; text: string }> }> }
  const state = chatState()
  opened = conversationId
  state.setMessages(conversation.messages)
  state.setOpen(true)
}

async function deleteConversation(conversationId: string) {
  const response = await gatewayFetch(`${base}/conversations/${encodeURIComponent(conversationId)}`, { method: 'DELETE', credentials: 'include' })
  if (!response.ok) return
  if (opened === conversationId) {
    opened = undefined
    chatState().clearMessages()
  }
  await loadHistory()
}

void loadHistory()
