// Issue 24: the tokens Agent Studio reports are read from its answers (streamed and not) and
// appear on the request's log line, in the Prometheus counters and in GET /agent-studio/usage/me.
// Real sockets, real Redis, the stand-in reporting usage in Algolia's spec shapes.
import t from 'tap'
import { AGENT_ID, completionBody, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import type { RunningGateway } from '../helpers/gateway.js'
import { postCompletion, waitFor } from '../helpers/requests.js'
import { SHARED_REDIS, limitsFile, redisNamespace } from '../helpers/limits.js'
import { chatTurn, userTurn } from '../helpers/ai-sdk.js'
import { usageTap } from '../../src/usage/usage-reader.js'

const sse = (...events: unknown[]) => Buffer.from(events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join(''))

t.test('the reader takes usage from every place Agent Studio puts it, and ignores what it does not know', async (t) => {
  const read = (mode: Parameters<typeof usageTap>[0], ...chunks: Buffer[]) => {
    const tap = usageTap(mode)
    for (const chunk of chunks) tap.push(chunk)
    return tap.end()
  }
  t.same(
    read(
      'ai-sdk-5',
      sse(
        { type: 'start' },
        {
          type: 'message-metadata',
          messageMetadata: {
            usage: { inputTokens: 10, outputTokens: 5, reasoningTokens: 2, totalTokens: 15, inputTokenDetails: { cacheReadTokens: 4, someFutureField: 9 } }
          }
        }
      )
    ),
    { input: 10, output: 5, reasoning: 2, cached: 4, total: 15, cacheHit: false },
    'message metadata (UsageV5 with inputTokenDetails)'
  )
  t.same(
    read(
      'ai-sdk-5',
      sse({ type: 'data-step-usage', data: { inputTokens: 3, outputTokens: 1 } }),
      sse({ type: 'data-step-usage', data: { inputTokens: 4, outputTokens: 2, outputTokenDetails: { reasoningTokens: 1 } } })
    ),
    { input: 7, output: 3, reasoning: 1, cached: 0, total: 10, cacheHit: false },
    'per-step data-*-usage parts are summed'
  )
  t.same(
    read(
      'ai-sdk-5',
      sse({ type: 'data-step-usage', data: { inputTokens: 3, outputTokens: 1 } }, { type: 'data-message-usage', data: { inputTokens: 9, outputTokens: 9 } })
    ),
    { input: 9, output: 9, reasoning: 0, cached: 0, total: 18, cacheHit: false },
    'a message-level reading wins over the steps: nothing is counted twice'
  )
  t.same(
    read('ai-sdk-5', sse({ type: 'message-metadata', messageMetadata: { usage: { inputTokens: -1, outputTokens: '7', totalTokens: 1.5, mystery: 3 } } })),
    undefined,
    'negative, string and fractional counts are not counts'
  )
  t.same(read('ai-sdk-5', sse({ type: 'text-delta', id: 't', delta: 'inputTokens' })), undefined, 'text that merely mentions a field is not usage')
  t.same(
    read('ai-sdk-5', sse({ type: 'message-metadata', messageMetadata: { isCacheHit: true, usage: { inputTokens: 5, outputTokens: 5 } } })),
    { input: 5, output: 5, reasoning: 0, cached: 0, total: 10, cacheHit: true },
    'isCacheHit (MessageResponse.yml)'
  )
  t.same(
    read(
      'ai-sdk-4',
      Buffer.from(
        '0:"hi"\ne:{"finishReason":"stop","usage":{"promptTokens":6,"completionTokens":2}}\nd:{"finishReason":"stop","usage":{"promptTokens":6,"completionTokens":2,"reasoningTokens":1,"totalTokens":8}}\n'
      )
    ),
    { input: 6, output: 2, reasoning: 1, cached: 0, total: 8, cacheHit: false },
    'AI SDK 4 data stream: the finish line (UsageV4)'
  )
  t.same(
    read('json', Buffer.from('{"role":"assistant","parts":[],"stepsUsages":[{"inputTokens":1,"outputTokens":2},{"inputTokens":3,"outputTokens":4}]}')),
    { input: 4, output: 6, reasoning: 0, cached: 0, total: 10, cacheHit: false },
    'stream=false without usage: the sum of stepsUsages'
  )
  t.same(read('json', Buffer.from('{"role":"assistant","content":"x","usage":null}')), undefined, 'usage: null is no usage')
  t.same(read('json', Buffer.from('not json')), undefined)
})

async function setup(t: Parameters<typeof startStandIn>[0], env: Record<string, string> = {}) {
  const { standIn, url } = await startStandIn(t)
  const namespace = redisNamespace(t as never)
  const gateway = await startGateway(t, url, { env: { REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: namespace, ...env } })
  return { standIn, gateway, namespace }
}

async function usageMe(gateway: RunningGateway, user: string) {
  const response = await gateway.app.inject({ method: 'GET', url: '/agent-studio/usage/me', headers: { authorization: `Bearer ${await sessionToken(user)}` } })
  return { status: response.statusCode, headers: response.headers, body: response.json() as Record<string, Record<string, unknown>> }
}

async function metricsText(gateway: RunningGateway): Promise<string> {
  return (await gateway.app.inject({ method: 'GET', url: '/metrics' })).body
}

t.test("a stream's tokens are on its log line, in the metrics and in /usage/me", async (t) => {
  const { gateway } = await setup(t)
  const response = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: testClient(t),
    user: 'u-meter',
    body: completionBody('Explain it [think]'),
    headers: { 'x-algolia-referer': 'ai-mode' }
  })
  t.equal(response.statusCode, 200)
  await response.body.text()
  await waitFor(() => gateway.logs.requests.length > 0)
  t.match(gateway.logs.requests.at(-1), {
    status: 200,
    userId: 'u-meter',
    agentId: AGENT_ID,
    inputTokens: 12,
    outputTokens: 24,
    reasoningTokens: 8,
    cachedTokens: 0,
    chargedTokens: 36
  })

  const metrics = await metricsText(gateway)
  t.match(metrics, `gateway_tokens_total{agent="${AGENT_ID}",entry_point="ai-mode",kind="input"} 12`)
  t.match(metrics, `gateway_tokens_total{agent="${AGENT_ID}",entry_point="ai-mode",kind="output"} 24`)
  t.match(metrics, `gateway_tokens_total{agent="${AGENT_ID}",entry_point="ai-mode",kind="reasoning"} 8`)
  t.match(metrics, `gateway_tokens_charged_total{agent="${AGENT_ID}"} 36`)
  t.notMatch(metrics, /u-meter/, 'no user id in any label')

  // The store write follows the answer; /usage/me reads what every replica wrote.
  let me = await usageMe(gateway, 'u-meter')
  for (let i = 0; i < 50 && me.body.day?.tokens !== 36; i++) me = await usageMe(gateway, 'u-meter')
  t.equal(me.status, 200)
  t.match(me.body.day, { tokens: 36, input: 12, output: 24, reasoning: 8, cached: 0, answers: 1, agents: { [AGENT_ID]: 36 }, limit: null, remaining: null })
  t.match(me.body.month, { tokens: 36, answers: 1 })
  t.match(me.body.day!.resetAt, /^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/)
  t.equal(me.headers['cache-control'], 'private, no-store')
  t.notOk('tenant' in me.body, 'no tenant without SESSION_TENANT_CLAIM')
  t.match((await usageMe(gateway, 'someone-else')).body.day, { tokens: 0, answers: 0 }, "only ever the caller's own usage")
})

t.test('stream=false answers and the AI SDK 4 protocol are metered too; a history reports its cached prompt tokens', async (t) => {
  const { gateway } = await setup(t)
  const client = testClient(t)
  const plain = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: client,
    user: 'u-json',
    query: 'compatibilityMode=ai-sdk-5&stream=false',
    body: completionBody('short [tokens=100]')
  })
  t.match(await plain.body.json(), { usage: { inputTokens: 12, outputTokens: 100, totalTokens: 112 } }, 'the answer itself is relayed unchanged')
  const v4 = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: client,
    user: 'u-json',
    mode: 'ai-sdk-4',
    body: {
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'again' }
      ]
    }
  })
  await v4.body.text()
  const history = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: client,
    user: 'u-json',
    body: {
      messages: [
        { id: 'm1', role: 'user', parts: [{ type: 'text', text: 'first' }] },
        { id: 'm2', role: 'assistant', parts: [{ type: 'text', text: 'ok' }] },
        { id: 'm3', role: 'user', parts: [{ type: 'text', text: 'again' }] }
      ]
    }
  })
  await history.body.text()
  await waitFor(() => gateway.logs.requests.length === 3)
  const [json, data, sse] = gateway.logs.requests
  t.match(json, { inputTokens: 12, outputTokens: 100, chargedTokens: 112 })
  t.match(data, { inputTokens: 12, outputTokens: 24, chargedTokens: 36 })
  t.match(sse, { inputTokens: 12, cachedTokens: 4, chargedTokens: 36 }, 'inputTokenDetails.cacheReadTokens')
  t.match(await metricsText(gateway), `gateway_tokens_total{agent="${AGENT_ID}",entry_point="chat",kind="output"} 148`)
  t.match(await metricsText(gateway), `gateway_tokens_total{agent="${AGENT_ID}",entry_point="chat",kind="cached"} 4`)
})

t.test('the real AI SDK client reads the answer as before; a stream cut before its usage is charged an estimate', async (t) => {
  const { gateway, standIn } = await setup(t)
  const turn = await chatTurn({ gatewayUrl: gateway.url, user: 'u-sdk', messages: [userTurn('m1', 'hello there')] })
  t.same(turn.errors, [])
  t.match(turn.message?.metadata, { usage: { inputTokens: 12, outputTokens: 24 } }, 'the metadata reached the client untouched')
  await waitFor(() => gateway.logs.requests.length === 1)
  t.match(gateway.logs.requests[0], { inputTokens: 12, outputTokens: 24 })

  // Upstream breaks before reporting usage: the answer was billed all the same, so it is charged an
  // estimate (4 bytes a token of what was sent and relayed), marked as such.
  standIn.setFault({ kind: 'cut', afterEvents: 2 })
  const cut = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u-sdk', body: completionBody('again') })
  await cut.body.text()
  await waitFor(() => gateway.logs.requests.length === 2)
  const line = gateway.logs.requests[1]!
  const sent = Buffer.byteLength(JSON.stringify(standIn.received.at(-1)!.body))
  t.match(line, {
    cutBy: 'upstream',
    tokensEstimated: true,
    inputTokens: Math.ceil(sent / 4),
    outputTokens: Math.ceil(Number(line.bytesSent) / 4),
    reasoningTokens: 0
  })
  t.equal(line.chargedTokens, Number(line.inputTokens) + Number(line.outputTokens))
  const metrics = await metricsText(gateway)
  t.match(metrics, `gateway_usage_unreported_total{agent="${AGENT_ID}"} 1`)
  t.match(metrics, `gateway_tokens_estimated_total{agent="${AGENT_ID}"} ${String(line.chargedTokens)}`)
  t.match(metrics, `gateway_tokens_total{agent="${AGENT_ID}",entry_point="chat",kind="input"} 12`, 'estimates are not counted as reported tokens')
})

t.test('budget-free deployments without Redis meter the same way (memory store)', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { GATEWAY_CONFIG_FILE: limitsFile({}) } })
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u-mem', body: completionBody('hi [tokens=50]') })
  await response.body.text()
  await waitFor(() => gateway.logs.requests.length === 1)
  t.match((await usageMe(gateway, 'u-mem')).body.day, { tokens: 62, output: 50, answers: 1 })
})
