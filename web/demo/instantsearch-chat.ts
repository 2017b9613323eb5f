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
 * - Product cards: `templates.item` renders each hit of the search tool (the widget's default
 *   item is the hit as raw JSON).
 * - Errors: `templates.messages.error` shows the gateway's own `message` and the action it
 *   implies (the widget's default says "contact support" whatever happened). The widget's
 *   transport keeps only the body's `message`, so the transport's `fetch` notes each refusal
 *   (its `error` code, `retry-after`) for the template to find again.
 */
import { liteClient } from 'algoliasearch/lite'
import instantsearch from 'instantsearch.js'
import { chat } from 'instantsearch.js/es/widgets'
import { chatInlineLayout } from 'instantsearch.js/es/templates'
import 'instantsearch.css/themes/satellite-min.css'
import { describeGatewayError } from '../shared/gateway-error.js'
import type { GatewayErrorView } from '../shared/gateway-error.js'
import { gatewayFetch, refusalBody, retryAfterOf } from '../shared/gateway-fetch.js'
import { signInAgainHref } from '../shared/demo-user.js'

const agentId = document.body.dataset.agentId!
const base = `/agent-studio/1/agents/${encodeURIComponent(agentId)}`
const banner = document.getElementById('status')!

/**
 * The page's own calls (history, votes): a refusal shows in the banner above the panel. The
 * chat's own failures show in the widget instead (the `messages.error` template), so one
 * failure never shows two messages.
 */
async function panelFetch(input: string, init: RequestInit = {}): Promise<Response | undefined> {
  const response = await gatewayFetch(input, { credentials: 'include', ...init })
  if (response.ok) {
    showProblem(undefined)
    return response
  }
  showProblem(describeGatewayError(new Error(await response.text()), retryAfterOf))
  return undefined
}

function showProblem(view: GatewayErrorView | undefined) {
  banner.hidden = view === undefined
  if (view === undefined) {
    banner.replaceChildren()
    delete banner.dataset.code
    delete banner.dataset.action
    return
  }
  banner.dataset.code = view.code ?? ''
  banner.dataset.action = view.action
  banner.replaceChildren(`${view.text} ${view.hint}`)
  if (view.action === 'sign-in')
    banner.append(' ', Object.assign(document.createElement('a'), { href: signInAgainHref('/demo/instantsearch'), textContent: 'Sign in again' }))
}

// A conversation opened from the history panel: the widget keeps its own chat id (and offers
// no way to set it), so the transport sends the opened one instead, until "Clear" starts a
// new conversation.
let opened: string | undefined
document.getElementById('chat')!.addEventListener(
  'click',
  (event) => {
    if ((event.target as Element).closest('.ais-ChatHeader-clear') !== null) opened = undefined
  },
  { capture: true }
)

const search = instantsearch({
  indexName: 'unused',
  // Never called (requiresSearch: false); the widget only needs non-empty credentials.
  searchClient: liteClient('not-used', 'not-used')
})

const votes = new Map<string, 0 | 1 | 'sending' | 'failed'>()

/** A search hit as the stand-in's (and Algolia's e-commerce sample index's) records carry it. */
interface ProductHit {
  objectID: string
  name?: string
  description?: string
  brand?: string
  price?: number
  rating?: number
  image?: string
}
const price = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' })

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
      // In the page beside the history panel, rather than floating over it.
      layout: chatInlineLayout(),
      // A product card for each hit of the search tool (the widget's default is the raw JSON).
      item: (hit, { html }) => {
        const product = hit as unknown as ProductHit
        return html`<article class="demo-hit" data-object-id=${product.objectID}>
          ${product.image === undefined ? '' : html`<img class="demo-hit-image" src=${product.image} alt="" width="96" height="96" />`}
          <div class="demo-hit-body">
            ${product.brand === undefined ? '' : html`<span class="demo-hit-brand">${product.brand}</span>`}
            <h3 class="demo-hit-name">${product.name ?? product.objectID}</h3>
            ${product.rating === undefined ? '' : html`<span class="demo-hit-rating" title=${`${product.rating} out of 5`}>${'★'.repeat(Math.round(product.rating))}${'☆'.repeat(5 - Math.round(product.rating))}</span>`}
            ${product.price === undefined ? '' : html`<strong class="demo-hit-price">${price.format(product.price)}</strong>`}
          </div>
        </article>`
      },
      messages: {
        // One message per failure: the gateway's own `message` and what to do about it, in
        // place of the widget's default ("… Please contact support.", whatever happened).
        error: ({ errorMessage, context }, { html }) => {
          // The widget's transport keeps only the body's `message`; the transport's fetch kept the rest.
          const error = context.error ?? new Error(errorMessage ?? '')
          const body = refusalBody(error.message)
          const view = describeGatewayError(body === undefined ? error : new Error(body), retryAfterOf)
          return html`<article class="ais-ChatMessage ais-ChatMessage--left demo-error" role="alert" data-action=${view.action} data-code=${view.code ?? ''}>
            <div class="ais-ChatMessage-container">
              <div class="ais-ChatMessage-content">
                <p class="demo-error-text">${view.text}</p>
                <p class="demo-error-hint">
                  ${view.hint}
                  ${view.action === 'sign-in' ? html` <a class="demo-error-action" href=${signInAgainHref('/demo/instantsearch')}>Sign in again</a>` : ''}
                  ${view.action === 'retry' ? html` <button type="button" class="demo-error-action" onClick=${() => void context.regenerate()}>Try again</button>` : ''}
                  ${view.action === 'new-conversation' ? html` <button type="button" class="demo-error-action" onClick=${() => context.onNewConversation?.()}>New conversation</button>` : ''}
                </p>
              </div>
            </div>
          </article>`
        }
      },
      actions: ({ actions, message }, { html }) => {
        if (message.role !== 'assistant') return ''
        const vote = votes.get(message.id)
        const thumbs =
          vote === undefined || vote === 'failed'
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
  rerender(messageId)
  const response = await panelFetch('/agent-studio/1/feedback', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messageId, agentId, vote })
  })
  votes.set(messageId, response === undefined ? 'failed' : vote)
  rerender(messageId)
}

/**
 * Renders the message again so the actions template shows the vote: the widget memoizes each
 * message by its object, so the voted one is replaced by a copy.
 */
function rerender(messageId: string) {
  chatState().setMessages((messages) => messages.map((message) => (message.id === messageId ? { ...message } : message)))
}

// --- Conversation history panel: list, open, delete, all through the gateway --------------
const list = document.getElementById('history-list')!
document.getElementById('history-refresh')!.addEventListener('click', () => void loadHistory())

interface ConversationSummary {
  id: string
  title: string | null
  updatedAt?: string
}

async function loadHistory() {
  list.dataset.state = 'loading'
  const response = await panelFetch(`${base}/conversations?limit=20`)
  list.dataset.state = 'ready'
  if (response === undefined) return
  const { data } = (await response.json()) as { data: ConversationSummary[] }
  list.replaceChildren(
    ...data.map((conversation) => {
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
    })
  )
  if (data.length === 0) list.replaceChildren(Object.assign(document.createElement('li'), { textContent: 'No conversations yet.' }))
}

async function openConversation(conversationId: string) {
  const response = await panelFetch(`${base}/conversations/${encodeURIComponent(conversationId)}?includeFeedback=true`)
  if (response === undefined) return
  const conversation = (await response.json()) as {
    messages: Array<{ id: string; role: 'user' | 'assistant'; parts: Array<{ type: 'text'; text: string }> }>
    feedback?: Array<{ messageId: string; vote: 0 | 1 }>
  }
  for (const { messageId, vote } of conversation.feedback ?? []) votes.set(messageId, vote)
  const state = chatState()
  opened = conversationId
  state.setMessages(conversation.messages)
}

async function deleteConversation(conversationId: string) {
  const response = await panelFetch(`${base}/conversations/${encodeURIComponent(conversationId)}`, { method: 'DELETE' })
  if (response === undefined) return
  if (opened === conversationId) {
    opened = undefined
    chatState().clearMessages()
  }
  await loadHistory()
}

void loadHistory()
