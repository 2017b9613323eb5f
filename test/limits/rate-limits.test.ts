import t from 'tap'
import type { Test } from 'tap'
import { AGENT_ID, completionBody, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'
import { SHARED_REDIS, limitsFile, redisNamespace } from '../helpers/limits.js'

const path = `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`

async function gateways(t: Test, limits: Record<string, unknown>, count: number, env: Record<string, string> = {}) {
  const { standIn, url } = await startStandIn(t)
  const file = limitsFile(limits)
  const namespace = redisNamespace(t)
  const instances = []
  for (let i = 0; i < count; i++) {
    instances.push(
      await startGateway(t, url, { listen: false, env: { GATEWAY_CONFIG_FILE: file, REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: namespace, ...env } })
    )
  }
  return { standIn, instances }
}

async function send(gateway: Awaited<ReturnType<typeof startGateway>>, user: string, headers: Record<string, string> = {}) {
  return gateway.app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await sessionToken(user)}`, ...headers },
    payload: completionBody()
  })
}

t.test('a completions limit shared through Redis holds across two gateway instances', async (t) => {
  const {
    standIn,
    instances: [a, b]
  } = await gateways(t, { routes: { completions: { max: 4, windowSeconds: 60 } } }, 2)
  const statuses = []
  for (let i = 0; i < 4; i++) {
    const response = await send(i % 2 === 0 ? a! : b!, 'u1')
    statuses.push(response.statusCode)
    t.equal(response.headers['x-ratelimit-limit'], '4')
    t.equal(response.headers['x-ratelimit-remaining'], String(3 - i), "the count is shared: each instance sees the other's requests")
    t.ok(Number(response.headers['x-ratelimit-reset']) > 0)
  }
  t.same(statuses, [200, 200, 200, 200])
  for (const gateway of [a!, b!]) {
    const refused = await send(gateway, 'u1')
    t.equal(refused.statusCode, 429, 'the fifth is refused on either instance')
    const body = refused.json()
    t.same(Object.keys(body).sort(), ['error', 'message', 'requestId'])
    t.equal(body.error, 'rate_limited')
    t.match(body.message, /^Too many requests; retry in \d+ seconds\.$/)
    t.ok(Number(refused.headers['retry-after']) > 0 && Number(refused.headers['retry-after']) <= 60)
    t.equal(refused.headers['x-ratelimit-remaining'], '0')
    t.match(gateway.logs.requests.at(-1), { status: 429, rule: 'rate_limited:route:completions', userId: 'u1' })
  }
  t.equal(standIn.received.length, 4, 'refused requests never reached Agent Studio')
  t.equal((await send(a!, 'u2')).statusCode, 200, 'another user has a budget of their own')
})

t.test('per-user and per-IP limits are independent', async (t) => {
  const {
    instances: [gateway]
  } = await gateways(t, { ip: { max: 2, windowSeconds: 60 }, user: { max: 2, windowSeconds: 60 }, routes: { completions: { max: 0, windowSeconds: 60 } } }, 1)
  const anonymous = () => gateway!.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json' }, payload: completionBody() })
  t.equal((await send(gateway!, 'alice')).statusCode, 200)
  t.equal((await send(gateway!, 'alice')).statusCode, 200)
  const third = await send(gateway!, 'alice')
  t.equal(third.statusCode, 429)
  t.match(third.json(), { error: 'rate_limited' })
  t.match(gateway!.logs.requests.at(-1), { rule: 'rate_limited:user', userId: 'alice' })
  t.equal((await send(gateway!, 'bob')).statusCode, 200, "bob is not limited by alice's budget")

  const first = await anonymous()
  t.equal(first.statusCode, 401)
  t.equal(first.headers['x-ratelimit-limit'], '2', 'requests without a session are counted per IP')
  t.equal((await anonymous()).statusCode, 401)
  const flooded = await anonymous()
  t.equal(flooded.statusCode, 429, 'the third anonymous request from this IP is refused before its session is even judged')
  t.match(gateway!.logs.requests.at(-1), { rule: 'rate_limited:ip' })
  const forged = await gateway!.app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json', authorization: 'Bearer forged' },
    payload: completionBody()
  })
  t.equal(forged.statusCode, 429, 'invalid sessions count against the IP too')

  // Issue 11 item 5: once an address is over its failure budget, nothing from it is judged.
  t.equal((await send(gateway!, 'bob')).statusCode, 429, 'a valid session from an address over its failure budget is refused until the window ends')
})

t.test('the allow-list exempts internal callers from request limits', async (t) => {
  const {
    instances: [gateway]
  } = await gateways(t, { user: { max: 1, windowSeconds: 60 }, routes: { completions: { max: 1, windowSeconds: 60 } }, allowList: ['127.0.0.0/8'] }, 1)
  for (let i = 0; i < 3; i++) t.equal((await send(gateway!, 'internal')).statusCode, 200)
  const listed = await startGateway(t, (await startStandIn(t)).url, {
    listen: false,
    env: { GATEWAY_CONFIG_FILE: limitsFile({ user: { max: 1, windowSeconds: 60 }, allowList: ['10.0.0.0/8'] }) }
  })
  t.equal((await send(listed, 'external')).statusCode, 200)
  t.equal((await send(listed, 'external')).statusCode, 429, 'an address outside the allow-list is limited')
})

t.test('without Redis the limits hold in memory', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, {
    listen: false,
    env: { GATEWAY_CONFIG_FILE: limitsFile({ routes: { completions: { max: 1, windowSeconds: 60 } } }) }
  })
  t.equal((await send(gateway, 'u')).statusCode, 200)
  t.equal((await send(gateway, 'u')).statusCode, 429)
})

t.test('X-Forwarded-For is believed only from trusted proxies', async (t) => {
  const limits = { ip: { max: 1, windowSeconds: 60 } }
  const anonymous = (gateway: Awaited<ReturnType<typeof startGateway>>, forwardedFor: string) =>
    gateway.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      payload: completionBody()
    })

  const trusted = (await gateways(t, limits, 1, { TRUSTED_PROXIES: '127.0.0.1' })).instances[0]!
  t.equal((await anonymous(trusted, '203.0.113.1')).statusCode, 401)
  t.equal((await anonymous(trusted, '203.0.113.2')).statusCode, 401, 'behind a trusted proxy, each client IP has its own budget')
  t.equal((await anonymous(trusted, '203.0.113.1')).statusCode, 429)
  t.equal((await anonymous(trusted, '198.51.100.9, 203.0.113.1')).statusCode, 429, 'only the hop the trusted proxy saw counts, not what the client prepended')

  const untrusted = (await gateways(t, limits, 1, { TRUSTED_PROXIES: '10.0.0.1' })).instances[0]!
  t.equal((await anonymous(untrusted, '203.0.113.1')).statusCode, 401)
  t.equal((await anonymous(untrusted, '198.51.100.7')).statusCode, 429, 'a spoofed X-Forwarded-For from an untrusted address does not change the key')

  const none = (await gateways(t, limits, 1)).instances[0]!
  t.equal((await anonymous(none, '203.0.113.1')).statusCode, 401)
  t.equal((await anonymous(none, '203.0.113.9')).statusCode, 429, 'with no trusted proxy the header is ignored')
})

t.test('rate-limit headers are on every Agent Studio response, refusals included', async (t) => {
  const {
    instances: [gateway]
  } = await gateways(t, {}, 1)
  const ok = await send(gateway!, 'u')
  const unauthenticated = await gateway!.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json' }, payload: completionBody() })
  // An unknown agent asked with a session that is not a JWT: the session is judged first, so this
  // third refusal is a 401 session_invalid, not a 403 for the agent.
  const invalidSession = await send(gateway!, 'u', {}).then(() =>
    gateway!.app.inject({
      method: 'POST',
      url: `/agent-studio/1/agents/unknown/completions?compatibilityMode=ai-sdk-5`,
      headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
      payload: completionBody()
    })
  )
  for (const response of [ok, unauthenticated, invalidSession]) {
    t.ok(response.headers['x-ratelimit-limit'] !== undefined, `x-ratelimit-limit on ${response.statusCode}`)
    t.ok(response.headers['x-ratelimit-remaining'] !== undefined, `x-ratelimit-remaining on ${response.statusCode}`)
    t.ok(response.headers['x-ratelimit-reset'] !== undefined, `x-ratelimit-reset on ${response.statusCode}`)
  }
  t.same([ok.statusCode, unauthenticated.statusCode, invalidSession.statusCode], [200, 401, 401])
  t.equal(invalidSession.json().error, 'session_invalid', 'the third is refused for its session')
})

t.test('refusals are counted for monitoring at /metrics', async (t) => {
  const {
    instances: [gateway]
  } = await gateways(t, { routes: { completions: { max: 1, windowSeconds: 60 } } }, 1)
  await send(gateway!, 'u')
  await send(gateway!, 'u')
  const metrics = await gateway!.app.inject({ method: 'GET', url: '/metrics' })
  t.equal(metrics.statusCode, 200)
  t.match(metrics.body, /gateway_refusals_total\{rule="rate_limited:route:completions"\} 1/)
  t.match(metrics.body, /gateway_requests_total\{route="\/agent-studio\/1\/agents\/:agentId\/completions",status="429"\} 1/)
})

t.test('/metrics answers loopback and the internal allow-list only; anyone else gets a plain 404', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { listen: false, env: { GATEWAY_CONFIG_FILE: limitsFile({ allowList: ['10.1.0.0/16'] }) } })
  const local = await gateway.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })
  t.equal(local.statusCode, 200)
  t.match(local.body, /# TYPE gateway_requests_total counter/)
  t.equal((await gateway.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3' })).statusCode, 200, 'a scraper on the allow-list')
  const outside = await gateway.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.5' })
  t.equal(outside.statusCode, 404)
  t.equal(outside.json().error, 'not_found')
  const spoofed = await gateway.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.5', headers: { 'x-forwarded-for': '127.0.0.1' } })
  t.equal(spoofed.statusCode, 404, 'X-Forwarded-For cannot claim to be local')
})

// Issue 26: the limits are asked as soon as the user is known and answered while the body is read
// (src/routes/agent-studio/pipeline.ts); which refusal a request gets must not change with it.
t.test('a request over its limit with a broken body is refused by the limits (429), one within them by its body (400)', async (t) => {
  const {
    instances: [gateway]
  } = await gateways(t, { user: { max: 1, windowSeconds: 60 } }, 1)
  const broken = async (user: string, payload: string, headers: Record<string, string> = {}) =>
    gateway!.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await sessionToken(user)}`, ...headers },
      payload
    })
  t.equal((await send(gateway!, 'u-over')).statusCode, 200)
  for (const [what, payload] of [
    ['malformed JSON', '{"messages": ['],
    ['a body that fails validation', JSON.stringify({ messages: 'not a list' })],
    ['JSON nested too deep', `${'['.repeat(2000)}${']'.repeat(2000)}`]
  ] as const) {
    const over = await broken('u-over', payload)
    t.equal(over.statusCode, 429, `over the limit, ${what}: the limits' refusal`)
    t.match(over.json(), { error: 'rate_limited', requestId: String })
    t.ok(Number(over.headers['retry-after']) > 0, 'with its retry-after')
  }
  const within = await broken('u-within', '{"messages": [')
  t.equal(within.statusCode, 400, "within the limit: the body's refusal")
  t.match(within.json(), { error: 'malformed_json' })
  t.equal(within.headers['x-ratelimit-remaining'], '59', "and the limits' headers (the completions route's counter), as before")
  const unsupported = await broken('u-media', 'hello', { 'content-type': 'text/plain' })
  t.equal(unsupported.statusCode, 415, 'a refusal before the body (415) within the limit')
  t.equal((await broken('u-media', 'hello', { 'content-type': 'text/plain' })).statusCode, 429, 'and the limits first once over it')
})
