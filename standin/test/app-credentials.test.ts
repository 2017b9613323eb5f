import t from 'tap'
import { AGENT_ID, TEST_KEYS, sharedStandIn } from './standin-client.js'

// Every Agent Studio request carries x-algolia-application-id and x-algolia-api-key (spec.yml
// "Authentication"; specs/common/securitySchemes.yml). A wrong pair answers 401 with Algolia's
// error shape { message, status } (../shared/agent-studio-api.md "Base URL and authentication";
// ErrorBase in specs/common/schemas), before anything else is looked at or recorded.

const shared = sharedStandIn(t)
const completions = `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`
const body = { messages: [{ role: 'user', content: 'hello' }] }
const refused = { message: 'Invalid Application-ID or API key', status: 401 }

const cases: Array<[string, Record<string, string>]> = [
  ['no credentials at all', {}],
  ['an API key without an application id', { 'x-algolia-api-key': TEST_KEYS.apiKey }],
  ['an application id without an API key', { 'x-algolia-application-id': TEST_KEYS.appId }],
  ["another application's id", { 'x-algolia-application-id': 'OTHERAPP1', 'x-algolia-api-key': TEST_KEYS.apiKey }],
  ['an API key the application does not have', { 'x-algolia-application-id': TEST_KEYS.appId, 'x-algolia-api-key': 'not-a-key-of-this-app' }],
  ['the authentication key (sk-alg-…) in place of an API key', { 'x-algolia-application-id': TEST_KEYS.appId, 'x-algolia-api-key': TEST_KEYS.secretKey }]
]

for (const [what, credentials] of cases) {
  t.test(`${what} is refused with 401 and Algolia's error body, and the request is not recorded`, async (t) => {
    const before = shared.standIn.received.length
    const answer = await shared.call('POST', completions, { credentials, body })
    t.equal(answer.status, 401)
    t.same(answer.json(), refused)
    t.equal(shared.standIn.received.length, before, 'nothing recorded')
  })
}

t.test('the refusal comes before the user token is looked at: a valid token does not help a wrong key', async (t) => {
  const answer = await shared.call('GET', `/1/agents/${AGENT_ID}/conversations`, {
    credentials: { 'x-algolia-application-id': TEST_KEYS.appId, 'x-algolia-api-key': 'wrong' },
    user: 'alice'
  })
  t.equal(answer.status, 401)
  t.same(answer.json(), refused)
})

t.test('the right pair is accepted on every route the gateway uses', async (t) => {
  const completion = await shared.call('POST', completions, { body })
  t.equal(completion.status, 200)
  const list = await shared.call('GET', `/1/agents/${AGENT_ID}/conversations`)
  t.equal(list.status, 200)
  const feedback = await shared.call('POST', '/1/feedback', { body: { messageId: 'alg_msg_1', agentId: AGENT_ID, vote: 1 } })
  t.equal(feedback.status, 201)
  const task = await shared.call('POST', `/1/agents/${AGENT_ID}/tasks`, { body: { input: { query: 'tents' } } })
  t.equal(task.status, 200)
})
