import t from 'tap'
import { request } from 'undici'
import { AGENT_ID, sessionToken } from './helpers/fixtures.js'
import { NO_SHEDDING, startGateway, startStandIn, testClient } from './helpers/gateway.js'
import { chatTurn, userTurn } from './helpers/ai-sdk.js'
import type { UIMessage } from 'ai'

// The stand-in's answers are read by the client that consumes Agent Studio's: the real `ai`
// package (DefaultChatTransport's parser and readUIMessageStream) validates every chunk
// against its own schema, so a malformed event fails here, not in a customer's browser.

t.test('a search answer: reasoning, a search tool round with hits and queryID, text, suggestions, metadata, two steps', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: NO_SHEDDING })
  const turn = await chatTurn({ gatewayUrl: gateway.url, user: 'u1', messages: [userTurn('m1', '[search] trail shoes')] })
  t.same(turn.errors, [])
  const parts = turn.message!.parts
  t.same(parts.map((part) => part.type), ['step-start', 'reasoning', 'tool-algolia_search_index', 'step-start', 'text', 'data-suggestions'])
  t.match(parts[2], { state: 'output-available', input: { query: 'trail shoes' }, output: { hits: [{ objectID: 'p-1' }, {}, {}], queryID: /^[0-9a-f]{32}$/ } })
  t.match(parts[4], { type: 'text', text: /^You asked: "\[search\] trail shoes"/, state: 'done' })
  t.match(parts[5], { data: { suggestions: ['Cheaper trail shoes?', String, String] } })
  t.match(turn.message!.metadata, { model: 'stand-in-1', usage: { inputTokens: 12, outputTokens: 24 } }, 'messageMetadata from start and message-metadata')
})

t.test('a client-side tool stops at tool-input-available; the browser\'s result in the next request gets the answer', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: NO_SHEDDING })
  const question = userTurn('m1', 'Buy it [client-tool]')
  const first = await chatTurn({ gatewayUrl: gateway.url, user: 'u1', messages: [question] })
  t.same(first.errors, [])
  const call = first.message!.parts.find((part) => part.type === 'tool-addToCart') as { state: string; toolCallId: string; input: unknown } | undefined
  t.match(call, { state: 'input-available', input: { objectID: 'p-1', quantity: 1 } }, 'the tool waits for the browser')
  t.notOk(first.message!.parts.some((part) => part.type === 'text'), 'no text yet')

  const answered = { ...first.message!, parts: first.message!.parts.map((part) => (part.type === 'tool-addToCart' ? { ...part, state: 'output-available', output: { added: true } } : part)) } as UIMessage
  const second = await chatTurn({ gatewayUrl: gateway.url, user: 'u1', messages: [question, answered] })
  t.match(second.message!.parts, [{ type: 'step-start' }, { type: 'text', text: /^Done: \{"added":true\}/ }])
})

t.test('a thinking answer streams reasoning before its text', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: NO_SHEDDING })
  const turn = await chatTurn({ gatewayUrl: gateway.url, user: 'u1', messages: [userTurn('m1', '[think] why?')] })
  t.match(turn.message!.parts, [{ type: 'step-start' }, { type: 'reasoning', text: /Thinking/ }, { type: 'text', text: /why\?/ }])
})

t.test('ai-sdk-4 answers use the data stream protocol\'s tool, reasoning and data parts', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: NO_SHEDDING })
  const response = await request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-4`, {
    method: 'POST', dispatcher: testClient(t),
    headers: { authorization: `Bearer ${await sessionToken('u1')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: '[search] tents' }] })
  })
  t.equal(response.headers['x-vercel-ai-data-stream'], 'v1')
  const lines = (await response.body.text()).trimEnd().split('\n')
  const codes = lines.map((line) => line[0])
  t.same(codes, ['f', 'g', 'b', 'c', '9', 'a', 'e', 'f', ...codes.slice(8, -3), 'e', '2', 'd'])
  t.ok(codes.slice(8, -3).every((code) => code === '0'), 'text parts between the second step\'s start and finish')
  for (const line of lines) t.doesNotThrow(() => JSON.parse(line.slice(2)), line.slice(0, 20))
  t.match(JSON.parse(lines[5]!.slice(2)), { toolCallId: String, result: { hits: Array, queryID: String } })
})

t.test('stream=false answers in each mode\'s own shape', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: NO_SHEDDING })
  const ask = async (mode: string, text: string) => {
    const response = await request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=${mode}&stream=false`, {
      method: 'POST', dispatcher: testClient(t),
      headers: { authorization: `Bearer ${await sessionToken('u1')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: text }] })
    })
    return response.body.json() as Promise<Record<string, unknown>>
  }
  t.match(await ask('ai-sdk-5', 'hi'), { id: /^alg_msg_/, role: 'assistant', parts: [{ type: 'step-start' }, { type: 'text', text: /hi/ }], usage: Object })
  t.match(await ask('ai-sdk-4', 'hi'), { id: /^alg_msg_/, role: 'assistant', content: /You asked: "hi"/ })
  t.match(await ask('ai-sdk-4', '[search] tents'), { content: String, toolInvocations: [{ state: 'result', toolName: 'algolia_search_index', result: { queryID: String } }] })
})
