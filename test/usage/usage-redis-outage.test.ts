// @test-process: shared (a private redis-server it stops itself; nothing of this process changes)
// Issue 24 with Redis away: answers are still served under the fail-open policy (and say so),
// the failed usage writes are counted and warned about once, /usage/me and approvals answer 503
// (never a 500, and never an approval that could not be checked).
import t from 'tap'
import { AGENT_ID, completionBody, sessionToken } from '../helpers/fixtures.js'
import { chatTurn, userTurn } from '../helpers/ai-sdk.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { postCompletion, waitFor } from '../helpers/requests.js'
import { privateRedis } from '../helpers/limits.js'
import { agentsFile } from '../helpers/policy-file.js'

t.test('Redis away: served fail-open, usage writes counted, /usage/me and approvals 503', async (t) => {
  const redis = await privateRedis(t)
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, {
    env: { REDIS_URL: redis.url, REDIS_NAMESPACE: 'outage:', GATEWAY_CONFIG_FILE: agentsFile({ [AGENT_ID]: { approvableTools: ['emptyCart'] } }) }
  })
  const first = await chatTurn({
    gatewayUrl: gateway.url,
    user: 'u-out',
    chatId: 'chat-out-0000001',
    messages: [userTurn('m1', 'Please empty my cart [approval]')]
  })
  t.equal(first.status, 200)
  const assistant = structuredClone(first.message!)
  Object.assign(
    assistant.parts.find((p) => p.type === 'tool-emptyCart')!,
    { state: 'approval-responded', approval: { id: 'a', approved: true } }
  )

  // The first answer's tokens are written before Redis goes (a read on this replica writes what it
  // gathered: src/redis/token-store.ts); only the two answers below fail.
  const before = await gateway.app.inject({ method: 'GET', url: '/agent-studio/usage/me', headers: { authorization: `Bearer ${await sessionToken('u-out')}` } })
  t.equal(before.statusCode, 200)
  await redis.stop()
  const client = testClient(t)
  for (let i = 0; i < 2; i++) {
    const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user: 'u-out', body: completionBody('hello') })
    t.equal(response.statusCode, 200, 'served without the checks Redis could not answer')
    await response.body.text()
  }
  await waitFor(
    () =>
      gateway.logs.lines.filter((line) => line.msg === "could not record an answer's tokens; the token budgets under-count it").length === 1 &&
      gateway.logs.requests.length >= 3,
    5000
  )
  // Each answer's tokens leave in the write of its 100 ms window (src/redis/token-store.ts): the
  // second answer's may fail a window after the first's.
  let metrics = ''
  for (const deadline = Date.now() + 5000; Date.now() < deadline && !/^gateway_usage_record_failures_total 2$/m.test(metrics);) {
    metrics = (await gateway.app.inject({ method: 'GET', url: '/metrics' })).body
    if (!/^gateway_usage_record_failures_total 2$/m.test(metrics)) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.match(metrics, /^gateway_usage_record_failures_total 2$/m, 'both failures counted')
  t.equal(gateway.logs.lines.filter((line) => line.msg === "could not record an answer's tokens; the token budgets under-count it").length, 1, 'one warning')
  t.match(gateway.logs.requests.filter((line) => String(line.route).endsWith('/completions')).at(-1), {
    status: 200,
    degraded: 'redis_unavailable',
    inputTokens: 12
  })

  const me = await gateway.app.inject({ method: 'GET', url: '/agent-studio/usage/me', headers: { authorization: `Bearer ${await sessionToken('u-out')}` } })
  t.equal(me.statusCode, 503)
  t.match(me.json(), { error: 'redis_unavailable', requestId: String })

  const approval = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: client,
    user: 'u-out',
    body: { id: 'chat-out-0000001', messages: [userTurn('m1', 'Please empty my cart [approval]'), assistant] }
  })
  t.equal(approval.statusCode, 503, 'an approval that cannot be checked is not accepted')
  t.match(await approval.body.json(), { error: 'redis_unavailable' })
})
