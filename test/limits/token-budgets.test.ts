// @test-process: shared (two gateways in this process on the shared test Redis, closed at the end; no server of its own)
// Issue 24: per-user (and per-tenant) token budgets, shared by two replicas through real Redis.
// A user over budget is refused before any upstream call, on either replica and on every route
// that runs an LLM; a stream that crosses the budget finishes; the browser sees what is left.
import t from 'tap'
import { Redis } from 'ioredis'
import { AGENT_ID, APP_ORIGIN, completionBody, sessionToken } from '../helpers/fixtures.js'
import { NO_SHEDDING, startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import type { RunningGateway } from '../helpers/gateway.js'
import { postCompletion } from '../helpers/requests.js'
import { SHARED_REDIS, limitsFile, redisNamespace, rewriteLimits } from '../helpers/limits.js'
import { periodsAt } from '../../src/usage/token-keys.js'
import { chatTurn, userTurn } from '../helpers/ai-sdk.js'

async function twoReplicas(t: Parameters<typeof startStandIn>[0], limits: Record<string, unknown>, env: Record<string, string> = {}) {
  const { standIn, url } = await startStandIn(t)
  const namespace = redisNamespace(t as never)
  const policy = limitsFile(limits)
  const shared = { ...NO_SHEDDING, REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: namespace, GATEWAY_CONFIG_FILE: policy, ...env }
  const replicas = [await startGateway(t, url, { env: shared }), await startGateway(t, url, { env: shared })] as const
  return { standIn, replicas, namespace, policy }
}

async function tokensToday(gateway: RunningGateway, user: string, claims: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const response = await gateway.app.inject({
    method: 'GET',
    url: '/agent-studio/usage/me',
    headers: { authorization: `Bearer ${await sessionToken(user, { claims })}` }
  })
  return response.json() as Record<string, unknown>
}

/** The usage write follows the answer (it is not on the answer's path): wait until the store has it. */
async function untilRecorded(gateway: RunningGateway, user: string, tokens: number, claims: Record<string, unknown> = {}) {
  for (let i = 0; i < 200; i++) {
    const day = (await tokensToday(gateway, user, claims)).day as { tokens: number }
    if (day.tokens >= tokens) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error(`${user} never reached ${tokens} recorded tokens`)
}

t.test('over the daily budget: refused before upstream on either replica, after the stream that crossed it finished', async (t) => {
  const { standIn, replicas } = await twoReplicas(t, { tokenBudget: { user: { daily: 100 } } })
  const client = testClient(t)
  const ask = (replica: RunningGateway, text: string, user = 'spender') =>
    postCompletion({ gatewayUrl: replica.url, dispatcher: client, user, body: completionBody(text) })

  const first = await ask(replicas[0], 'one [tokens=80]')
  t.equal(first.statusCode, 200)
  t.equal(first.headers['ratelimit-policy'], '"tokens-day";q=100;w=86400')
  t.match(first.headers.ratelimit, /^"tokens-day";r=100;t=\d+$/, 'nothing spent yet when it was admitted')
  await first.body.text()
  await untilRecorded(replicas[1], 'spender', 92)

  // 92 of 100 spent: admitted, and this answer (92 more) crosses the budget. It is not cut.
  const crossing = await ask(replicas[1], 'two [tokens=80]')
  t.equal(crossing.statusCode, 200)
  t.match(crossing.headers.ratelimit, /^"tokens-day";r=8;t=\d+$/, "the other replica's spending is seen")
  const text = await crossing.body.text()
  t.match(text, /"type":"finish"/, 'the stream that crossed the budget finished')
  t.match(text, /data: \[DONE\]/)
  await untilRecorded(replicas[0], 'spender', 184)

  const received = standIn.received.length
  const refused = await ask(replicas[0], 'three')
  t.equal(refused.statusCode, 429)
  const body = (await refused.body.json()) as Record<string, unknown>
  const { dayResetAt, dayResetMs } = periodsAt(Date.now())
  t.same(body, {
    error: 'token_budget_exhausted',
    message: `The token budget is used up: your daily budget resets at ${new Date(dayResetAt * 1000).toISOString()}.`,
    requestId: refused.headers['x-request-id'],
    scope: 'user',
    period: 'day',
    limit: 100,
    resetAt: new Date(dayResetAt * 1000).toISOString()
  })
  t.ok(Math.abs(Number(refused.headers['retry-after']) - Math.ceil(dayResetMs / 1000)) <= 2, 'retry-after: until midnight UTC')
  t.match(refused.headers.ratelimit, /^"tokens-day";r=0;t=\d+$/)
  t.equal(standIn.received.length, received, 'Agent Studio never saw the refused request')
  t.match(replicas[0].logs.requests.at(-1), { status: 429, rule: 'token_budget:user:day', userId: 'spender' })

  const other = await ask(replicas[1], 'hello', 'someone-else')
  t.equal(other.statusCode, 200, 'other users are not affected')
  await other.body.text()

  // The same budget holds on every route that runs an LLM (no bypass through tasks).
  const task = await replicas[1].app.inject({
    method: 'POST',
    url: `/agent-studio/1/agents/${AGENT_ID}/tasks`,
    headers: { authorization: `Bearer ${await sessionToken('spender')}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ task: 'algolia_prompt_suggestions', input: {} })
  })
  t.equal(task.statusCode, 429)
  t.equal(task.json().error, 'token_budget_exhausted')
  t.equal(standIn.received.length, received + 1, "only the other user's completion reached Agent Studio")

  const me = await tokensToday(replicas[1], 'spender')
  t.match(me.day, { tokens: 184, limit: 100, remaining: 0, answers: 2 })
})

t.test('the budget is live-tunable: raised in the policy file, the user is served again without a restart', async (t) => {
  const { replicas, policy } = await twoReplicas(t, { tokenBudget: { user: { daily: 50 } } })
  const client = testClient(t)
  const first = await postCompletion({ gatewayUrl: replicas[0].url, dispatcher: client, user: 'tuned', body: completionBody('hi') })
  await first.body.text()
  await untilRecorded(replicas[0], 'tuned', 36)
  const second = await postCompletion({ gatewayUrl: replicas[0].url, dispatcher: client, user: 'tuned', body: completionBody('hi [tokens=40]') })
  await second.body.text()
  await untilRecorded(replicas[0], 'tuned', 88)
  t.equal((await postCompletion({ gatewayUrl: replicas[0].url, dispatcher: client, user: 'tuned', body: completionBody('x') })).statusCode, 429)
  rewriteLimits(policy, { upstreamBudget: { max: 0 }, tokenBudget: { user: { daily: 1000 } } })
  replicas[0].app.policy.reload()
  const again = await postCompletion({ gatewayUrl: replicas[0].url, dispatcher: client, user: 'tuned', body: completionBody('x') })
  t.equal(again.statusCode, 200)
  t.match(again.headers.ratelimit, /^"tokens-day";r=912;/)
  await again.body.text()
})

t.test('a monthly budget, and 0 turns a budget off', async (t) => {
  const { replicas } = await twoReplicas(t, { tokenBudget: { user: { daily: 0, monthly: 30 } } })
  const client = testClient(t)
  const first = await postCompletion({ gatewayUrl: replicas[0].url, dispatcher: client, user: 'monthly', body: completionBody('hi') })
  t.notMatch(String(first.headers['ratelimit-policy']), /tokens-day/, 'no daily policy when it is 0')
  t.match(first.headers['ratelimit-policy'], /^"tokens-month";q=30;w=\d+$/)
  await first.body.text()
  await untilRecorded(replicas[1], 'monthly', 36)
  const refused = await postCompletion({ gatewayUrl: replicas[1].url, dispatcher: client, user: 'monthly', body: completionBody('hi') })
  t.equal(refused.statusCode, 429)
  t.match(await refused.body.json(), {
    error: 'token_budget_exhausted',
    scope: 'user',
    period: 'month',
    limit: 30,
    resetAt: new Date(periodsAt(Date.now()).monthResetAt * 1000).toISOString()
  })
})

t.test("a tenant's budget above its users': the tenant is refused as a whole, other tenants are not", async (t) => {
  const { standIn, replicas } = await twoReplicas(t, { tokenBudget: { user: { daily: 1000 }, tenant: { daily: 60 } } }, { SESSION_TENANT_CLAIM: 'org' })
  const client = testClient(t)
  const as = async (user: string, org: string, replica: RunningGateway) =>
    postCompletion({
      gatewayUrl: replica.url,
      dispatcher: client,
      body: completionBody('hi'),
      headers: { authorization: `Bearer ${await sessionToken(user, { claims: { org } })}` }
    })
  const first = await as('ann', 'acme', replicas[0])
  await first.body.text()
  await untilRecorded(replicas[0], 'ann', 36, { org: 'acme' })
  const second = await as('bob', 'acme', replicas[1])
  t.equal(second.statusCode, 200, "under the tenant's budget: 36 of 60")
  await second.body.text()
  for (let i = 0; i < 200; i++) {
    const tenant = (await tokensToday(replicas[0], 'bob', { org: 'acme' })).tenant as { day: { tokens: number } }
    if (tenant.day.tokens >= 72) break
    await new Promise((resolve) => setImmediate(resolve))
  }
  const received = standIn.received.length
  const third = await as('cy', 'acme', replicas[0])
  t.equal(third.statusCode, 429)
  t.match(await third.body.json(), { error: 'token_budget_exhausted', scope: 'tenant', period: 'day', limit: 60, message: /your organisation's daily budget/ })
  t.equal(standIn.received.length, received, 'refused before upstream')
  const other = await as('dee', 'globex', replicas[1])
  t.equal(other.statusCode, 200, 'another tenant is served')
  await other.body.text()
  const me = await tokensToday(replicas[1], 'cy', { org: 'acme' })
  t.match(me, { day: { tokens: 0, limit: 1000 }, tenant: { day: { tokens: 72, limit: 60, remaining: 0 } } })
})

t.test("the usage keys are inside the namespace's hash tag and expire", async (t) => {
  const { replicas, namespace } = await twoReplicas(t, { tokenBudget: { user: { daily: 1000 } } })
  const response = await postCompletion({ gatewayUrl: replicas[0].url, dispatcher: testClient(t), user: 'keyed', body: completionBody('hi') })
  await response.body.text()
  await untilRecorded(replicas[0], 'keyed', 36)
  const redis = new Redis(SHARED_REDIS)
  t.teardown(() => redis.disconnect())
  const keys = await redis.keys(`{${namespace}}*`)
  t.ok(keys.length >= 4, `usage hashes and ranking buckets: ${keys.join(', ')}`)
  for (const key of keys) t.ok((await redis.pttl(key)) > 0, `${key} has a TTL`)
})

t.test('without Redis the same budget holds for one replica (memory store, same rules)', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { ...NO_SHEDDING, GATEWAY_CONFIG_FILE: limitsFile({ tokenBudget: { user: { daily: 50 } } }) } })
  const client = testClient(t)
  const statuses = []
  for (let i = 0; i < 3; i++) {
    const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user: 'solo', body: completionBody('hi') })
    statuses.push(response.statusCode)
    await response.body.text()
    if (i < 2) await untilRecorded(gateway, 'solo', 36 * (i + 1))
  }
  t.same(statuses, [200, 200, 429], '36 spent, 72 spent (crossed 50), refused')
  t.equal(standIn.received.length, 2)
})

t.test('AI SDK clients are told what is left in the stream itself: message metadata the real client merges', async (t) => {
  const { replicas } = await twoReplicas(t, { tokenBudget: { user: { daily: 1000, monthly: 5000 } } })
  const first = await chatTurn({ gatewayUrl: replicas[0].url, user: 'meta', messages: [userTurn('m1', 'hi [tokens=100]')] })
  t.same(first.errors, [])
  const { dayResetAt, monthResetAt } = periodsAt(Date.now())
  t.same(
    (first.message?.metadata as Record<string, unknown>).tokenBudget,
    {
      day: { limit: 1000, remaining: 888, resetAt: new Date(dayResetAt * 1000).toISOString() },
      month: { limit: 5000, remaining: 4888, resetAt: new Date(monthResetAt * 1000).toISOString() }
    },
    '1000 - 112 charged by this answer'
  )
  t.match(first.message?.metadata, { usage: { inputTokens: 12, outputTokens: 100 } }, "Agent Studio's own metadata is kept")
  t.match(first.message?.parts, [{ type: 'step-start' }, { type: 'text' }], 'the answer is unchanged')
  await untilRecorded(replicas[1], 'meta', 112)
  const second = await chatTurn({ gatewayUrl: replicas[1].url, user: 'meta', messages: [userTurn('m1', 'again')] })
  t.match(
    (second.message?.metadata as Record<string, unknown>).tokenBudget,
    { day: { remaining: 852 }, month: { remaining: 4852 } },
    'the other replica counts from what both spent'
  )
  const raw = await postCompletion({ gatewayUrl: replicas[0].url, dispatcher: testClient(t), user: 'meta', body: completionBody('x') })
  const text = await raw.body.text()
  t.match(text, /"tokenBudget".*\n\ndata: \[DONE\]\n\n$/s, 'the trailer comes just before the end marker')
})

t.test('no budget on: the stream is relayed byte for byte, with no trailer', async (t) => {
  const { replicas } = await twoReplicas(t, {})
  const raw = await postCompletion({ gatewayUrl: replicas[0].url, dispatcher: testClient(t), user: 'plain', body: completionBody('x') })
  t.notMatch(await raw.body.text(), /tokenBudget/)
  t.equal(raw.headers['ratelimit-policy'], undefined)
})

t.test('a cross-origin page may read the budget headers (CORS exposes them)', async (t) => {
  const { replicas } = await twoReplicas(t, { tokenBudget: { user: { daily: 1000 } } })
  const raw = await postCompletion({
    gatewayUrl: replicas[0].url,
    dispatcher: testClient(t),
    user: 'cors',
    body: completionBody('x'),
    headers: { origin: APP_ORIGIN }
  })
  await raw.body.text()
  t.match(raw.headers['access-control-expose-headers'], /(^|, )ratelimit(, |$)/)
  t.match(raw.headers['access-control-expose-headers'], /(^|, )ratelimit-policy(, |$)/)
})

t.test('leaving every stream before its usage arrives does not dodge the budget: the cut answer is charged an estimate', async (t) => {
  const { standIn, replicas } = await twoReplicas(t, { tokenBudget: { user: { daily: 20 } } })
  let release: () => void = () => undefined
  standIn.setBeforeEvent((index) => (index === 4 ? new Promise<void>((resolve) => (release = resolve)) : undefined))
  t.teardown(() => release())
  const controller = new AbortController()
  const response = await postCompletion({
    gatewayUrl: replicas[0].url,
    dispatcher: testClient(t),
    user: 'quitter',
    body: completionBody('hello'),
    signal: controller.signal
  })
  t.equal(response.statusCode, 200)
  for await (const chunk of response.body) if (String(chunk).includes('text-delta')) break
  controller.abort()
  await untilRecorded(replicas[1], 'quitter', 20)
  t.match(replicas[0].logs.requests.at(-1), { cutBy: 'client', tokensEstimated: true })
  release()
  standIn.setBeforeEvent(null)
  const next = await postCompletion({ gatewayUrl: replicas[1].url, dispatcher: testClient(t), user: 'quitter', body: completionBody('again') })
  t.equal(next.statusCode, 429, 'the estimate crossed the budget: the next request is refused')
  await next.body.dump()
})
