import t from 'tap'
import { request } from 'undici'
import { sessionToken } from '../../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../../helpers/gateway.js'
import { limitsFile } from '../../helpers/limits.js'
import { postCompletion } from '../../helpers/requests.js'
import type { ReceivedRequest } from '../../../standin/src/standin.js'

// Issue 23, item 7: long chats. `context/trim` (no LLM call) shortens a history the gateway would
// otherwise refuse, opt-in, and counted as the upstream call it is; `context/compact` (an LLM
// call billed to the application) only with a provider and model pinned by ops, and a daily
// allowance per user.

const turn = (i: number) => ({ id: `m${i}`, role: i % 2 === 0 ? 'user' : 'assistant', parts: [{ type: 'text', text: `turn ${i}` }] })
const history = (count: number) => Array.from({ length: count }, (_, i) => turn(i))
const trims = (received: ReceivedRequest[]) => received.filter((r) => r.path.endsWith('/unstable/context/trim'))
const completions = (received: ReceivedRequest[]) => received.filter((r) => r.path.endsWith('/completions'))

t.test('without CONTEXT_TRIM, a chat over MAX_MESSAGES is refused and no trim is made', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { MAX_MESSAGES: '4' } })
  const response = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: testClient(t),
    user: 'u-off',
    query: 'compatibilityMode=ai-sdk-5&stream=false',
    body: { messages: history(7) }
  })
  t.equal(response.statusCode, 400)
  t.match(await response.body.json(), { error: 'invalid_request', message: /MAX_MESSAGES/ })
  t.equal(standIn.received.length, 0)
})

t.test('with CONTEXT_TRIM, an over-long chat is trimmed by Agent Studio to the last MAX_MESSAGES messages, then answered', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { MAX_MESSAGES: '4', CONTEXT_TRIM: 'true', UPSTREAM_ORIGIN: 'https://shop.example.com' } })
  const response = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: testClient(t),
    user: 'u-trim',
    query: 'compatibilityMode=ai-sdk-5&stream=false',
    body: { messages: history(7) }
  })
  t.equal(response.statusCode, 200, await response.body.text())
  const [trim] = trims(standIn.received)
  t.same(trim!.body, { messages: history(7), keepLastMessages: 4 }, 'only what trimming needs: no tool-part dropping for a count')
  t.equal(trim!.userToken?.sub, 'u-trim')
  t.equal(trim!.headers.origin, 'https://shop.example.com', 'through the same header boundary')
  t.same((completions(standIn.received)[0]!.body as { messages: unknown }).messages, history(7).slice(3), 'the completion got the trimmed history')
  t.equal(standIn.received.length, 2, 'one extra upstream call, no more')
  const metrics = await (await request(`${gateway.url}/metrics`)).body.text()
  t.match(metrics, /gateway_context_trims_total\{outcome="trimmed"\} 1/)
})

t.test('a body over BODY_LIMIT_BYTES is trimmed with its tool parts dropped; one still too large after trimming is a 413', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { BODY_LIMIT_BYTES: '4096', CONTEXT_TRIM: 'true', CONTEXT_TRIM_BODY_LIMIT_BYTES: '65536' } })
  const hits = { hits: Array.from({ length: 20 }, (_, i) => ({ objectID: `p-${i}`, description: 'x'.repeat(200) })) }
  const bulky = [
    { id: 'm0', role: 'user', parts: [{ type: 'text', text: 'find tents' }] },
    {
      id: 'm1',
      role: 'assistant',
      parts: [
        { type: 'tool-algolia_search_index', toolCallId: 'c1', state: 'output-available', input: { query: 'tents' }, output: hits },
        { type: 'text', text: 'Here are tents.' }
      ]
    },
    { id: 'm2', role: 'user', parts: [{ type: 'text', text: 'the cheapest?' }] }
  ]
  const response = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: testClient(t),
    user: 'u-bulky',
    query: 'compatibilityMode=ai-sdk-5&stream=false',
    body: { messages: bulky }
  })
  t.equal(response.statusCode, 200, await response.body.text())
  t.match(trims(standIn.received)[0]!.body, { keepLastMessages: 3, dropToolParts: true, maxTokensEstimate: 1024 })
  const sent = completions(standIn.received)[0]!.body as { messages: Array<{ parts: Array<{ type: string }> }> }
  t.same(
    sent.messages[1]!.parts.map((p) => p.type),
    ['text'],
    'the search results were dropped, the words kept'
  )

  const huge = [{ id: 'm0', role: 'user', parts: [{ type: 'text', text: 'y'.repeat(8000) }] }]
  const tooLarge = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: testClient(t),
    user: 'u-bulky',
    query: 'compatibilityMode=ai-sdk-5&stream=false',
    body: { messages: huge }
  })
  t.equal(tooLarge.statusCode, 413)
  t.match(await tooLarge.body.json(), { error: 'payload_too_large', message: /4096 bytes \(BODY_LIMIT_BYTES\)/ })
  t.equal(completions(standIn.received).length, 1, 'a trim that kept nothing is not sent on as an empty chat')
  const beyond = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: testClient(t),
    user: 'u-bulky',
    query: 'compatibilityMode=ai-sdk-5&stream=false',
    body: { messages: [{ id: 'm0', role: 'user', parts: [{ type: 'text', text: 'z'.repeat(70_000) }] }] }
  })
  t.equal(beyond.statusCode, 413, 'beyond CONTEXT_TRIM_BODY_LIMIT_BYTES nothing is even read')
  t.match(await beyond.body.json(), { message: /CONTEXT_TRIM_BODY_LIMIT_BYTES/ })
})

t.test("the trim is counted in the deployment's upstream budget: a second long chat that would exceed it is refused before any call", async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, {
    env: { MAX_MESSAGES: '4', CONTEXT_TRIM: 'true', GATEWAY_CONFIG_FILE: limitsFile({ upstreamBudget: { max: 3, windowSeconds: 60, perUser: 4 } }) }
  })
  const client = testClient(t)
  const send = () =>
    postCompletion({
      gatewayUrl: gateway.url,
      dispatcher: client,
      user: 'u-budget',
      query: 'compatibilityMode=ai-sdk-5&stream=false',
      body: { messages: history(7) }
    })
  t.equal((await send()).statusCode, 200, 'completion + trim: 2 of 3')
  const second = await send()
  t.equal(second.statusCode, 429, 'its completion is the 3rd, its trim would be the 4th')
  t.match(await second.body.json(), { error: 'upstream_budget_exhausted' })
  t.equal(standIn.received.length, 2, 'the refused trim was never sent')
})

t.test('a trim Agent Studio refuses leaves the usual refusal', async (t) => {
  const { standIn, url } = await startStandIn(t, {
    intercept: ({ url }) =>
      url.includes('/context/trim') ? { status: 422, body: { detail: [{ loc: ['body', 'messages'], msg: 'bad', type: 'value_error' }] } } : undefined
  })
  const gateway = await startGateway(t, url, { env: { MAX_MESSAGES: '4', CONTEXT_TRIM: 'true' } })
  const response = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: testClient(t),
    user: 'u-fail',
    query: 'compatibilityMode=ai-sdk-5&stream=false',
    body: { messages: history(7) }
  })
  t.equal(response.statusCode, 400)
  t.match(await response.body.json(), { error: 'invalid_request', message: /MAX_MESSAGES/ })
  t.equal(completions(standIn.received).length, 0)
  t.match(await (await request(`${gateway.url}/metrics`)).body.text(), /gateway_context_trims_total\{outcome="failed"\} 1/)
})

t.test('compact: off unless ops pin a provider and a model; the browser can never choose them; a daily allowance per user', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const off = await startGateway(t, url)
  const client = testClient(t)
  const post = async (base: string, user: string, body: unknown) => {
    const response = await request(`${base}/agent-studio/1/context/compact`, {
      method: 'POST',
      dispatcher: client,
      headers: { authorization: `Bearer ${await sessionToken(user)}`, 'content-type': 'application/json' },
      body: JSON.stringify(body)
    })
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> }
  }
  t.equal((await post(off.url, 'u-c', { messages: history(8) })).status, 404, 'no route without a pinned provider and model')

  const gateway = await startGateway(t, url, {
    env: {
      COMPACT_PROVIDER_ID: 'prov_cheap',
      COMPACT_MODEL: 'gpt-4o-mini',
      GATEWAY_CONFIG_FILE: limitsFile({ routes: { compact: { max: 2, windowSeconds: 86_400 } } })
    }
  })
  const chosen = await post(gateway.url, 'u-c', { messages: history(8), providerID: 'prov_expensive', model: 'o1-pro' })
  t.equal(chosen.status, 400)
  t.match(chosen.body, { error: 'forbidden_field', message: /"providerID"/ })
  t.match((await post(gateway.url, 'u-c', { messages: history(8), model: 'o1-pro' })).body, { error: 'forbidden_field', message: /"model"/ })
  t.equal((await post(gateway.url, 'u-c', { messages: history(8), temperature: 2 })).status, 400, 'fields outside the spec are refused')
  t.equal(standIn.compactions.length, 0, 'none of them reached Agent Studio')

  const ok = await post(gateway.url, 'u-c', { messages: history(8), keepLastMessages: 2, instructions: 'keep product names' })
  t.equal(ok.status, 200)
  t.match(ok.body, {
    messages: [{ role: 'user', parts: [{ text: /Summary of 6 earlier messages \(by gpt-4o-mini\)/ }] }, history(8)[6], history(8)[7]],
    stats: { messagesBefore: 8, messagesAfter: 3 },
    compaction: { compacted: true }
  })
  t.same(standIn.compactions, [{ providerID: 'prov_cheap', model: 'gpt-4o-mini' }], 'billed to the pinned provider and model')
  t.equal((await post(gateway.url, 'u-c', { messages: history(8) })).status, 200, 'the second of the day')
  const third = await post(gateway.url, 'u-c', { messages: history(8) })
  t.equal(third.status, 429, 'the daily allowance is spent')
  t.match(third.body, { error: 'rate_limited' })
  t.equal((await post(gateway.url, 'u-other', { messages: history(8) })).status, 200, 'another user has their own allowance')
  t.equal(standIn.compactions.length, 3)
})

t.test('COMPACT_PROVIDER_ID without COMPACT_MODEL (or the reverse) is refused at start', async (t) => {
  const { url } = await startStandIn(t)
  let problems = ''
  try {
    await startGateway(t, url, { env: { COMPACT_PROVIDER_ID: 'prov_cheap' } })
  } catch (error) {
    problems = ((error as { problems?: string[] }).problems ?? []).join('\n')
  }
  t.match(problems, /COMPACT_PROVIDER_ID and COMPACT_MODEL: set both/)
})
