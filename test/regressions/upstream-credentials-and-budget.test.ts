import t from 'tap'
import { request } from 'undici'
import { AGENT_ID, TEST_KEYS, sessionToken } from '../helpers/fixtures.js'
import { NO_SHEDDING, startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { postCompletion, waitFor } from '../helpers/requests.js'

// Issue 10, item 4: an upstream 401/403 (the gateway's Algolia credentials refused) used to be
// relayed as 401/403, and a frontend signed its user out; an upstream 429 on a side call became
// 502 or 404.

t.test('a wrong API key upstream (401) is 502 upstream_auth_failed, logged at error level and counted', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { ...NO_SHEDDING, ALGOLIA_API_KEY: 'a-rotated-away-key' } })
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1' })
  t.equal(response.statusCode, 502)
  const body = (await response.body.json()) as Record<string, string>
  t.equal(body.error, 'upstream_auth_failed')
  t.match(body.message, /refused the gateway's own Algolia credentials \(status 401\).*not with your session/)
  t.notMatch(JSON.stringify(body), /Invalid Application-ID/, "upstream's words are not relayed")
  await waitFor(() => gateway.logs.requests.length === 1)
  const line = gateway.logs.lines.find((l) => l.msg === 'request')!
  t.equal(line.level, 50, 'error level')
  t.match(line, { status: 502, upstreamStatus: 401, rule: 'upstream_auth_failed' })
  const metrics = await gateway.app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /gateway_upstream_auth_failures_total\{status="401"\} 1/)
})

t.test('a key without the logs ACL (403 upstream) on a conversation read is 502, not "not found"', async (t) => {
  const { url } = await startStandIn(t)
  // The search-only key lacks `logs`: Agent Studio answers 403 on every conversation route.
  const gateway = await startGateway(t, url, { listen: false, env: { ...NO_SHEDDING, ALGOLIA_API_KEY: TEST_KEYS.searchKey } })
  const headers = { authorization: `Bearer ${await sessionToken('u1')}` }
  for (const path of ['conversations', 'conversations/conv_1']) {
    const response = await gateway.app.inject({ method: 'GET', url: `/agent-studio/1/agents/${AGENT_ID}/${path}`, headers })
    t.equal(response.statusCode, 502, path)
    t.match(response.json(), { error: 'upstream_auth_failed', message: /status 403/ }, path)
  }
  const removed = await gateway.app.inject({ method: 'DELETE', url: `/agent-studio/1/agents/${AGENT_ID}/conversations/conv_1`, headers })
  t.equal(removed.statusCode, 502, "the DELETE's ownership read (a side call) says so too")
  t.match(removed.json(), { error: 'upstream_auth_failed' })
  t.match(gateway.logs.requests.at(-1), { status: 502, upstreamStatus: 403, rule: 'upstream_auth_failed' })
})

t.test("an upstream 429 is 429 upstream_rate_limited with upstream's retry-after, on completions and side calls", async (t) => {
  const { standIn, url } = await startStandIn(t, { requestBudget: { max: 1, windowMs: 30_000 } })
  const gateway = await startGateway(t, url, { env: NO_SHEDDING })
  const client = testClient(t)
  const first = await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user: 'u1' })
  t.equal(first.statusCode, 200)
  await first.body.dump()

  const refused = await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user: 'u1' })
  t.equal(refused.statusCode, 429)
  const retryAfter = Number(refused.headers['retry-after'])
  t.ok(retryAfter >= 29 && retryAfter <= 30, `retry-after ${retryAfter} is upstream's (its window is 30 s; the default would be 60)`)
  t.same(await refused.body.json(), {
    error: 'upstream_rate_limited',
    message: `Agent Studio is answering too many requests for this application right now; retry in ${retryAfter} seconds.`,
    requestId: refused.headers['x-request-id']
  })

  const headers = { authorization: `Bearer ${await sessionToken('u1')}` }
  // This replica now holds off for upstream's retry-after: it answers 429 itself, calling nobody.
  const heldOff = await request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/conversations/conv_1`, { method: 'DELETE', headers, dispatcher: client })
  t.equal(heldOff.statusCode, 429)
  t.match(await heldOff.body.json(), { error: 'upstream_budget_exhausted' })
  t.ok(Number(heldOff.headers['retry-after']) >= 1)
  t.equal(standIn.received.filter((r) => r.method === 'DELETE').length, 0, 'held off: no DELETE reached Agent Studio')

  // A replica that has not seen the 429 (no shared Redis here) sends the side call and maps upstream's 429.
  const other = await startGateway(t, url, { env: NO_SHEDDING })
  const deleted = await request(`${other.url}/agent-studio/1/agents/${AGENT_ID}/conversations/conv_1`, { method: 'DELETE', headers, dispatcher: client })
  t.equal(deleted.statusCode, 429, 'a side call (DELETE) is 429, never 404 or 502')
  t.match(await deleted.body.json(), { error: 'upstream_rate_limited' })
  t.ok(Number(deleted.headers['retry-after']) >= 1)

  const metrics = await gateway.app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /gateway_upstream_rate_limited_total 1/)
  t.match((await other.app.inject({ method: 'GET', url: '/metrics' })).body, /gateway_upstream_rate_limited_total 1/)
})

t.test("an erasure that meets Agent Studio's 429 is not refused: it waits the hold-off out, 202 with its status, and goes on", async (t) => {
  // Issue 20 replaced issue 10's answer (429 with what was done): an erasure is paced by the
  // budget and the hold-off, and the browser polls its status instead of retrying by hand.
  const { url } = await startStandIn(t, { requestBudget: { max: 1, windowMs: 30_000 } })
  const gateway = await startGateway(t, url, { listen: false, env: NO_SHEDDING })
  const response = await gateway.app.inject({
    method: 'DELETE',
    url: '/agent-studio/1/user-data/me',
    headers: { authorization: `Bearer ${await sessionToken('u1')}` }
  })
  t.equal(response.statusCode, 202)
  t.match(response.json(), { status: 'running', conversationsDeleted: 0, messagesDeleted: false, statusUrl: '/agent-studio/1/user-data/me/erasure' })
  const status = await gateway.app.inject({
    method: 'GET',
    url: '/agent-studio/1/user-data/me/erasure',
    headers: { authorization: `Bearer ${await sessionToken('u1')}` }
  })
  t.match(status.json(), { status: 'running' }, "still waiting for Agent Studio's window, not failed")
})
