import t from 'tap'
import { AGENT_ID, TEST_KEYS, sharedStandIn } from './standin-client.js'

// Each path's `x-acl` in Algolia's spec names the ACL its key needs: completions, tasks and
// feedback `search` (paths/agents/agentCompletions.yml, agentTasks.yml, paths/feedback/feedback.yml);
// every conversation and user-data operation `logs` (paths/conversations/*.yml,
// paths/user-data/userData.yml). A known key without it answers 403 (agent-studio-api.md).

const LOGS_ONLY = 'test-logs-only-key-5e6f7a'
const shared = sharedStandIn(t, {
  apiKeys: new Map([
    [TEST_KEYS.apiKey, ['search', 'logs']],
    [TEST_KEYS.searchKey, ['search']],
    [LOGS_ONLY, ['logs']]
  ])
})
const as = (key: string) => ({ 'x-algolia-application-id': TEST_KEYS.appId, 'x-algolia-api-key': key })

const LOGS_ROUTES: Array<[string, string]> = [
  ['GET', `/1/agents/${AGENT_ID}/conversations`],
  ['GET', `/1/agents/${AGENT_ID}/conversations/alg_cnv_1`],
  ['DELETE', `/1/agents/${AGENT_ID}/conversations/alg_cnv_1`],
  ['GET', `/1/agents/${AGENT_ID}/conversations/export`],
  ['DELETE', `/1/agents/${AGENT_ID}/conversations`],
  ['GET', '/1/user-data/alice'],
  ['DELETE', '/1/user-data/alice']
]
const SEARCH_ROUTES: Array<[string, string, unknown]> = [
  ['POST', `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`, { messages: [{ role: 'user', content: 'hi' }] }],
  ['POST', `/1/agents/${AGENT_ID}/tasks`, { input: { query: 'tents' } }],
  ['POST', '/1/feedback', { messageId: 'alg_msg_1', agentId: AGENT_ID, vote: 0 }]
]

for (const [method, path] of LOGS_ROUTES) {
  t.test(`a search-only key is refused ${method} ${path.split('?')[0]} with 403 naming the logs ACL, even with a user token`, async (t) => {
    const answer = await shared.call(method, path, { credentials: as(TEST_KEYS.searchKey), user: 'alice' })
    t.equal(answer.status, 403)
    t.same(answer.json(), { message: 'Method not allowed with this API key: requires logs', status: 403 })
  })
}

for (const [method, path, body] of SEARCH_ROUTES) {
  t.test(`a search-only key may ${method} ${path.split('?')[0]}; a logs-only key is refused it with 403 naming search`, async (t) => {
    const allowed = await shared.call(method, path, { credentials: as(TEST_KEYS.searchKey), body })
    t.ok(allowed.status === 200 || allowed.status === 201, `answered ${allowed.status}`)
    const refused = await shared.call(method, path, { credentials: as(LOGS_ONLY), body })
    t.equal(refused.status, 403)
    t.same(refused.json(), { message: 'Method not allowed with this API key: requires search', status: 403 })
  })
}

t.test('a key with logs reaches every conversation and user-data route', async (t) => {
  for (const [method, path] of LOGS_ROUTES) {
    const answer = await shared.call(method, path, { credentials: as(LOGS_ONLY) })
    t.not(answer.status, 401, `${method} ${path}`)
    t.not(answer.status, 403, `${method} ${path}`)
  }
})
