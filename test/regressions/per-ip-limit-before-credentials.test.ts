// Issue 11 item 5: the per-IP budget ran after the credential check, so a rate-limited address
// still had every credential verified (and, in forward-auth mode, the session endpoint called),
// and a valid one still got in. It is now consulted before any credential work.
import Fastify from 'fastify'
import t from 'tap'
import type { Test } from 'tap'
import { AGENT_ID, completionBody } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'
import type { RunningGateway } from '../helpers/gateway.js'
import { SHARED_REDIS, limitsFile, redisNamespace } from '../helpers/limits.js'

/** The web app's session endpoint: "good…" bearer tokens are alice; anything else is refused. */
async function sessionEndpoint(t: Test) {
  let calls = 0
  const server = Fastify()
  server.get('/api/session', async (request, reply) => {
    calls++
    if (request.headers.authorization?.startsWith('Bearer good')) return { id: 'alice' }
    return reply.code(401).send({ error: 'not signed in' })
  })
  const address = await server.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => server.close())
  return { url: `${address}/api/session`, calls: () => calls }
}

async function setup(t: Test, limits: Record<string, unknown>, replicas: number, redis: boolean) {
  const endpoint = await sessionEndpoint(t)
  const { standIn, url } = await startStandIn(t)
  const env = {
    MAX_EVENT_LOOP_DELAY_MS: '0', // a busy machine's 503 overloaded must not stand in for a refusal
    SESSION_JWT_SECRET: undefined,
    SESSION_INTROSPECT_URL: endpoint.url,
    // Every credential is checked anew: no cache hides a call.
    SESSION_INTROSPECT_CACHE_SECONDS: '0',
    GATEWAY_CONFIG_FILE: limitsFile(limits),
    ...(redis ? { REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: redisNamespace(t) } : {})
  }
  const gateways: RunningGateway[] = []
  for (let i = 0; i < replicas; i++) gateways.push(await startGateway(t, url, { env, listen: false }))
  const send = (gateway: RunningGateway, token: string, remoteAddress = '203.0.113.9') =>
    gateway.app.inject({
      method: 'POST',
      url: `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      payload: completionBody(),
      remoteAddress
    })
  return { endpoint, standIn, gateways, send }
}

const IP_BUDGET = { ip: { max: 2, windowSeconds: 60 } }

for (const store of ['memory', 'Redis'] as const) {
  t.test(`${store}: an address over its failure budget is refused before its credential is checked, valid or not`, async (t) => {
    const {
      endpoint,
      standIn,
      gateways: [gateway],
      send
    } = await setup(t, IP_BUDGET, 1, store === 'Redis')
    t.equal((await send(gateway!, 'bad-1')).statusCode, 401)
    t.equal((await send(gateway!, 'bad-2')).statusCode, 401)
    t.equal(endpoint.calls(), 2, 'two failures, two session checks')

    const guess = await send(gateway!, 'bad-3')
    t.equal(guess.statusCode, 429)
    t.same(guess.json(), { error: 'rate_limited', message: guess.json().message, requestId: guess.headers['x-request-id'] })
    t.match(guess.json().message, /^Too many requests; retry in \d+ seconds\.$/)
    t.ok(Number(guess.headers['retry-after']) > 0 && Number(guess.headers['retry-after']) <= 60, 'retry-after: the rest of the window')
    t.equal(guess.headers['x-ratelimit-limit'], '2')
    t.equal(guess.headers['x-ratelimit-remaining'], '0')

    const valid = await send(gateway!, 'good-alice')
    t.equal(valid.statusCode, 429, 'a valid credential from the address is refused too')
    t.match(gateway!.logs.requests.at(-1), { status: 429, rule: 'rate_limited:ip' })
    t.equal(endpoint.calls(), 2, 'the session endpoint was not called for either')
    t.equal(standIn.received.length, 0, 'nothing reached Agent Studio')

    const elsewhere = await send(gateway!, 'good-alice', '198.51.100.4')
    t.equal(elsewhere.statusCode, 200, 'another address is not affected')
    t.equal(endpoint.calls(), 3)
  })
}

t.test('allow-listed addresses are exempt from the per-IP budget', async (t) => {
  const {
    endpoint,
    send,
    gateways: [gateway]
  } = await setup(t, { ...IP_BUDGET, allowList: ['10.0.0.0/8'] }, 1, false)
  for (let i = 0; i < 4; i++) t.equal((await send(gateway!, `bad-${i}`, '10.1.2.3')).statusCode, 401, 'each failure is judged, none refused')
  t.equal((await send(gateway!, 'good-alice', '10.1.2.3')).statusCode, 200)
  t.equal(endpoint.calls(), 5)
})

t.test('Redis: another replica refuses the address too, after at most one credential check of its own', async (t) => {
  const {
    endpoint,
    standIn,
    gateways: [a, b],
    send
  } = await setup(t, IP_BUDGET, 2, true)
  t.equal((await send(a!, 'bad-1')).statusCode, 401)
  t.equal((await send(a!, 'bad-2')).statusCode, 401)
  t.equal((await send(b!, 'good-alice')).statusCode, 429, 'the other replica learns it from its one admission question, and refuses')
  t.equal(endpoint.calls(), 3, 'that replica checked the credential once (the bound docs/operations.md states)')
  t.equal((await send(b!, 'good-alice')).statusCode, 429)
  t.equal((await send(b!, 'bad-3')).statusCode, 429)
  t.equal(endpoint.calls(), 3, 'and never again in this window')
  t.equal(standIn.received.length, 0)
})
