/**
 * A cross-site shop page with InstantSearch's AI-mode search box and its chat widget, talking to
 * the gateway on another site (bearer session, transport mode), for test/browser/ai-mode-browser.test.ts (bundled by the test itself).
 * The search box's AI button opens the chat through instantsearch.js's own `openChat`, which
 * sends `x-algolia-referer: ai-mode` on the completion. The search client answers locally (no
 * Algolia call); the thumbs button changes a vote with PATCH, as a page's own thumbs would.
 */
import instantsearch from 'instantsearch.js'
import { chat, searchBox } from 'instantsearch.js/es/widgets'

declare global {
  interface Window {
    TEST_CONFIG: { gatewayUrl: string; agentId: string; token: string }
  }
}

const { gatewayUrl, agentId, token } = window.TEST_CONFIG
const authorization = `Bearer ${token}`
const emptyResult = { hits: [], nbHits: 0, page: 0, nbPages: 0, hitsPerPage: 20, processingTimeMS: 1, query: '', params: '', exhaustiveNbHits: true }

const search = instantsearch({
  indexName: 'products',
  searchClient: { search: (requests: unknown[]) => Promise.resolve({ results: requests.map(() => emptyResult) }) } as never
})
search.addWidgets([
  searchBox({ container: '#search', aiMode: true }),
  chat({
    container: '#chat',
    transport: { api: `${gatewayUrl}/agent-studio/1/agents/${agentId}/completions?compatibilityMode=ai-sdk-5`, headers: { authorization } }
  })
])
search.start()

document.getElementById('change-vote')!.addEventListener('click', async () => {
  const status = document.getElementById('vote-status')!
  try {
    const created = await fetch(`${gatewayUrl}/agent-studio/1/feedback`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ messageId: 'alg_msg_vote', agentId, vote: 1 })
    })
    const changed = await fetch(`${gatewayUrl}/agent-studio/1/feedback`, {
      method: 'PATCH',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ messageId: 'alg_msg_vote', agentId, vote: 0 })
    })
    status.textContent = `${created.status} ${changed.status} vote=${((await changed.json()) as { vote?: number }).vote}`
  } catch (error) {
    status.textContent = `failed: ${(error as Error).message}`
  }
})
