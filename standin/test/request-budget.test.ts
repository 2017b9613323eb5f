import t from 'tap'
import { AGENT_ID, sharedStandIn } from './standin-client.js'
import { createRequestBudget } from '../src/request-budget.js'

// Agent Studio allows about 100 requests per minute per application and answers 429 beyond it
// (agent-studio-api.md "Base URL and authentication"); the body is Algolia's
// { message, status } (specs/common/responses/TooManyRequests.yml) and `retry-after` says when
// to come back (RFC 9110 §10.2.3). The stand-in models a fixed window per application.

const WINDOW_MS = 60_000
const shared = sharedStandIn(t, { requestBudget: { max: 3, windowMs: WINDOW_MS } })

t.test('beyond the budget every route answers 429 with retry-after in whole seconds; nothing is recorded', async (t) => {
  const routes: Array<[string, string, unknown]> = [
    ['POST', `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`, { messages: [{ role: 'user', content: 'hi' }] }],
    ['GET', `/1/agents/${AGENT_ID}/conversations`, undefined],
    ['POST', '/1/feedback', { messageId: 'm', agentId: AGENT_ID, vote: 1 }]
  ]
  for (const [method, path, body] of routes) t.ok((await shared.call(method, path, { body })).status < 300, `${method} ${path} within the budget`)
  const recorded = shared.standIn.received.length
  for (const [method, path, body] of routes) {
    const answer = await shared.call(method, path, { body })
    t.equal(answer.status, 429, `${method} ${path}`)
    t.same(answer.json(), { message: 'Too many requests', status: 429 })
    const retryAfter = Number(answer.headers['retry-after'])
    t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_MS / 1000, `retry-after ${answer.headers['retry-after']}`)
  }
  t.equal(shared.standIn.received.length, recorded, 'refused requests are not recorded')
})

t.test('the budget is counted before credentials: a wrong key beyond it is also a 429', async (t) => {
  const answer = await shared.call('GET', `/1/agents/${AGENT_ID}/conversations`, { credentials: {} })
  t.equal(answer.status, 429)
})

t.test('the window: retry-after is the seconds left in it, and a new window starts with a fresh budget', async (t) => {
  const budget = createRequestBudget({ max: 2, windowMs: 10_000 })
  const start = Date.UTC(2026, 0, 1)
  t.equal(budget.take(start), undefined, 'the first request opens a window')
  t.equal(budget.take(start + 1_000), undefined)
  t.equal(budget.take(start + 1_500), 9, 'ceil((10000 − 1500) / 1000) seconds left')
  t.equal(budget.take(start + 9_999), 1, 'never less than one second')
  t.equal(budget.take(start + 10_000), undefined, 'the next window')
  t.equal(budget.take(start + 10_001), undefined)
  t.equal(budget.take(start + 10_002), 10, 'over again in the new window')
})
