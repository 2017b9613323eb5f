import t from 'tap'
import { AGENT_ID, TEST_KEYS, completionBody } from '../helpers/fixtures.js'
import { conversationSetup as setup } from '../helpers/conversations.js'

const completions = (agent = AGENT_ID) => `/agent-studio/1/agents/${agent}/completions?compatibilityMode=ai-sdk-5&stream=false`

// Bug: with the search-only key docs/security.md recommends when conversations and user data are off,
// every chat message carrying `id` answered 502 upstream_error (the ownership read needed `logs`).
t.test('chat with a conversation id works with a search-only key when conversations and user data are off', async (t) => {
  const { standIn, a } = await setup(t, { ALGOLIA_API_KEY: TEST_KEYS.searchKey, ENABLE_CONVERSATIONS: 'false', ENABLE_USER_DATA: 'false' })
  for (const text of ['first', 'second']) {
    const response = await a('POST', completions(), completionBody(text, { id: 'k3j9x0q' }))
    t.equal(response.statusCode, 200, text)
  }
  t.same(
    standIn.received.map((r) => `${r.method} ${r.path}`),
    [`POST /agent-studio/1/agents/${AGENT_ID}/completions`, `POST /agent-studio/1/agents/${AGENT_ID}/completions`],
    'nothing but the completions, so no logs ACL is needed'
  )
  t.equal(standIn.received[0]!.headers['x-algolia-api-key'], TEST_KEYS.searchKey)
})
