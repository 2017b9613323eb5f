import t from 'tap'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { postCompletion, waitFor } from '../helpers/requests.js'

const UUID = /^[0-9a-f-]{36}$/

t.test('an upstream 500 before the first byte becomes 502 with our JSON error', async (t) => {
  const { standIn, url: upstream } = await startStandIn(t)
  standIn.setFault({ kind: 'status', status: 500 })
  const gateway = await startGateway(t, upstream)
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1' })
  const body = (await response.body.json()) as Record<string, string>
  t.equal(response.statusCode, 502)
  t.same(Object.keys(body).sort(), ['error', 'message', 'requestId'])
  t.equal(body.error, 'upstream_error')
  t.match(body.message, /Agent Studio failed to answer/)
  t.equal(body.requestId, response.headers['x-request-id'])
  t.notMatch(JSON.stringify(body), /Internal server error/, 'the upstream body is not relayed')
  await waitFor(() => gateway.logs.requests.length === 1)
  t.match(gateway.logs.requests[0], { status: 502, upstreamStatus: 500, rule: 'upstream_error' })
})

t.test('an upstream that never answers is a 504 after the first-byte timeout', async (t) => {
  const { standIn, url: upstream } = await startStandIn(t)
  standIn.setFault({ kind: 'hang' })
  const gateway = await startGateway(t, upstream, { env: { UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '200' } })
  const started = performance.now()
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1' })
  const body = (await response.body.json()) as Record<string, string>
  t.equal(response.statusCode, 504)
  t.equal(body.error, 'upstream_timeout')
  t.match(body.message, /took too long/)
  t.match(body.requestId, UUID)
  t.ok(performance.now() - started >= 190, 'the gateway waited for the configured time')
})

t.test('the total duration limit turns a too-long answer into a 504 before headers', async (t) => {
  const { standIn, url: upstream } = await startStandIn(t)
  standIn.setFault({ kind: 'hang' })
  const gateway = await startGateway(t, upstream, { env: { UPSTREAM_TOTAL_TIMEOUT_MS: '150', UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '60000' } })
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1' })
  t.equal(response.statusCode, 504)
  t.match(await response.body.json(), { error: 'upstream_timeout', message: /in total/ })
})

t.test('an unreachable upstream is a 502', async (t) => {
  const { standIn, url: upstream } = await startStandIn(t)
  await standIn.close()
  const gateway = await startGateway(t, upstream)
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1' })
  t.equal(response.statusCode, 502)
  t.match(await response.body.json(), { error: 'upstream_unavailable', message: /could not be reached/ })
})

t.test('an upstream 422 becomes our error with only the fields upstream named (loc, msg, type)', async (t) => {
  const { standIn, url: upstream } = await startStandIn(t)
  standIn.setFault({ kind: 'status', status: 422 })
  const gateway = await startGateway(t, upstream)
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1' })
  t.equal(response.statusCode, 422)
  const body = (await response.body.json()) as Record<string, unknown>
  t.same(body, {
    error: 'upstream_validation_failed',
    message: 'Agent Studio found the request invalid; see "detail" for the fields it named.',
    requestId: response.headers['x-request-id'],
    detail: [{ loc: ['body', 'messages', 0], msg: 'Invalid message', type: 'value_error' }]
  })
  t.notMatch(JSON.stringify(body), /echoed request data|internal detail/, 'input and ctx are not relayed')
})

t.test("an unknown agent upstream is our 404 upstream_not_found, not upstream's body", async (t) => {
  const { url: upstream } = await startStandIn(t)
  const gateway = await startGateway(t, upstream, { env: { ALLOWED_AGENT_IDS: 'agent-1,agent-gone' } })
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1', agentId: 'agent-gone' })
  t.equal(response.statusCode, 404)
  t.same(await response.body.json(), {
    error: 'upstream_not_found',
    message: 'Agent Studio has no such agent or resource.',
    requestId: response.headers['x-request-id']
  })
})

const cuts = [
  { mode: 'ai-sdk-5', last: /data: \{"type":"error","errorText":"The answer was interrupted[^"]*"\}\n\n$/ },
  { mode: 'ai-sdk-4', last: /\n3:"The answer was interrupted[^"]*"\n$/ },
  { mode: 'ag-ui', last: /data: \{"type":"RUN_ERROR","message":"The answer was interrupted[^"]*"\}\n\n$/ }
]
for (const { mode, last } of cuts) {
  t.test(`a ${mode} stream cut mid-way ends with an error event the client understands`, async (t) => {
    // Paced, so the cut comes after the gateway has started relaying (not in the same packet as the headers).
    const { standIn, url: upstream } = await startStandIn(t, { paceMs: 20 })
    standIn.setFault({ kind: 'cut', afterEvents: 4 })
    const agUi = mode === 'ag-ui'
    const gateway = await startGateway(t, upstream, agUi ? { env: { COMPATIBILITY_MODES: 'ai-sdk-5,ag-ui' } } : {})
    const body = agUi ? { threadId: 'thread-1', runId: 'run-1', messages: [{ id: 'u1', role: 'user', content: 'hello' }] } : undefined
    const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1', mode, ...(body === undefined ? {} : { body }) })
    t.equal(response.statusCode, 200)
    const text = await response.body.text()
    t.match(text, last)
    await waitFor(() => gateway.logs.requests.length === 1)
    t.match(gateway.logs.requests[0], { cutBy: 'upstream', status: 200, upstreamStatus: 200 })
  })
}

t.test('a stream that stalls longer than the idle timeout is ended with an error event', async (t) => {
  const { standIn, url: upstream } = await startStandIn(t)
  standIn.setFault({ kind: 'stall', afterEvents: 3 })
  const gateway = await startGateway(t, upstream, { env: { UPSTREAM_IDLE_TIMEOUT_MS: '200' } })
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1' })
  const text = await response.body.text()
  t.match(text, /"type":"error"/)
  await waitFor(() => gateway.logs.requests.length === 1)
  t.match(gateway.logs.requests[0], { cutBy: 'timeout' })
})

t.test('a stream longer than the total limit is cut with an error event', async (t) => {
  const { url: upstream } = await startStandIn(t, { paceMs: 40 })
  const gateway = await startGateway(t, upstream, { env: { UPSTREAM_TOTAL_TIMEOUT_MS: '200' } })
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1' })
  t.equal(response.statusCode, 200)
  const text = await response.body.text()
  t.match(text, /"type":"error"/)
  t.notMatch(text, /\[DONE\]/)
  await waitFor(() => gateway.logs.requests.length === 1)
  t.match(gateway.logs.requests[0], { cutBy: 'timeout' })
})

t.test('ops can narrow the compatibility modes, and ai-sdk-4 (text/plain) still gets its in-band error', async (t) => {
  const { standIn, url: upstream } = await startStandIn(t, { paceMs: 20 })
  standIn.setFault({ kind: 'cut', afterEvents: 2 })
  const gateway = await startGateway(t, upstream, { env: { COMPATIBILITY_MODES: 'ai-sdk-5,ai-sdk-4' } })
  // ai-sdk-4 speaks text/plain, but the gateway still knows the protocol and ends it in-band.
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1', mode: 'ai-sdk-4' })
  t.match(await response.body.text(), /\n3:"/)
  const refused = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1', mode: 'ag-ui' })
  t.equal(refused.statusCode, 400, 'ops narrowed the modes: ag-ui is refused')
  t.match(await refused.body.json(), { error: 'invalid_query', message: /compatibilityMode must be one of ai-sdk-5, ai-sdk-4/ })
})

t.test('the stand-in can be told to fail from another process, over HTTP', async (t) => {
  const { url: upstream } = await startStandIn(t)
  const gateway = await startGateway(t, upstream)
  const client = testClient(t)
  const { request } = await import('undici')
  const set = (fault: unknown) =>
    request(`${upstream.origin}/__standin/fault`, {
      method: 'PUT',
      dispatcher: client,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fault)
    })
  t.equal((await set({ kind: 'status', status: 500 })).statusCode, 200)
  t.equal((await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user: 'u1' })).statusCode, 502)
  t.equal((await set({ kind: 'nonsense' })).statusCode, 400)
  t.equal((await set(null)).statusCode, 200)
  const ok = await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user: 'u1' })
  t.equal(ok.statusCode, 200)
  await ok.body.dump()
})
