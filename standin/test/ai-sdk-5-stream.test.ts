import t from 'tap'
import { DefaultChatTransport, readUIMessageStream } from 'ai'
import type { UIMessage, UIMessageChunk } from 'ai'
import { AGENT_ID, TEST_KEYS, APP_HEADERS, sharedStandIn, sseData, userToken } from './standin-client.js'

// compatibilityMode=ai-sdk-5 answers the AI SDK 5 UI message stream (agent-studio-api.md
// "Streamed responses"): SSE with `x-vercel-ai-ui-message-stream: v1`, `start` first (with the
// message id), steps between `start-step` and `finish-step`, each text and reasoning part's
// start/delta/end sharing one id, then `finish` and `data: [DONE]`. The chunks are read here by
// the real `ai` package (DefaultChatTransport validates each against its uiMessageChunkSchema),
// the client that reads Agent Studio in a browser.

const shared = sharedStandIn(t)
const completions = (query = '') => `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5${query}`
const user = (id: string, text: string): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] })

/** Every chunk of one answer, as the AI SDK's transport parsed it. */
async function chunksOf(messages: UIMessage[]): Promise<UIMessageChunk[]> {
  const transport = new DefaultChatTransport<UIMessage>({
    api: `${shared.url.href}${completions()}`,
    headers: { ...APP_HEADERS, 'x-algolia-secure-user-token': await userToken('alice') }
  })
  const stream = await transport.sendMessages({ trigger: 'submit-message', chatId: 'chat-stream-test', messageId: undefined, messages, abortSignal: undefined })
  const chunks: UIMessageChunk[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return chunks
}

async function assembled(chunks: UIMessageChunk[]): Promise<{ message: UIMessage | undefined; errors: unknown[] }> {
  const errors: unknown[] = []
  let message: UIMessage | undefined
  const stream = new ReadableStream<UIMessageChunk>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk)
      controller.close()
    }
  })
  for await (const snapshot of readUIMessageStream<UIMessage>({ stream, onError: (error) => errors.push(error) })) message = snapshot
  return { message, errors }
}

t.test("a plain answer: the headers of a UI message stream and events in the protocol's order, ending with [DONE]", async (t) => {
  const answer = await shared.call('POST', completions(), { user: 'alice', body: { messages: [user('m1', 'hello there')] } })
  t.equal(answer.status, 200)
  t.equal(answer.headers['content-type'], 'text/event-stream')
  t.equal(answer.headers['x-vercel-ai-ui-message-stream'], 'v1')
  t.equal(answer.headers['cache-control'], 'no-cache')
  const events = sseData(answer.text) as Array<Record<string, unknown> | string>
  t.equal(events.at(-1), '[DONE]', 'the stream ends with data: [DONE]')
  const types = events.slice(0, -1).map((event) => (event as { type: string }).type)
  const deltas = types.filter((type) => type === 'text-delta').length
  t.ok(deltas > 1, 'the text is streamed in pieces')
  t.same(types, ['start', 'start-step', 'text-start', ...Array<string>(deltas).fill('text-delta'), 'text-end', 'finish-step', 'message-metadata', 'finish'])
  t.match(events[0], { type: 'start', messageId: /^alg_msg_[0-9a-f]{32}$/, messageMetadata: { model: 'stand-in-1' } })
  const textIds = new Set(
    events.filter((event) => typeof event === 'object' && String(event.type).startsWith('text-')).map((event) => (event as { id: string }).id)
  )
  t.same([...textIds], ['text-1'], 'text-start, every delta and text-end share one id')
})

t.test('every answer has its own message id', async (t) => {
  const first = sseData((await shared.call('POST', completions('&cache=false'), { body: { messages: [user('m1', 'same')] } })).text)[0] as { messageId: string }
  const second = sseData((await shared.call('POST', completions('&cache=false'), { body: { messages: [user('m1', 'same')] } })).text)[0] as {
    messageId: string
  }
  t.not(first.messageId, second.messageId)
})

t.test('a search answer parses without error: reasoning, a tool round with hits and queryID, then text and suggestions, in two steps', async (t) => {
  const chunks = await chunksOf([user('m1', '[search] trail shoes')])
  t.same(
    chunks.map((chunk) => chunk.type),
    [
      'start',
      'start-step',
      'reasoning-start',
      'reasoning-delta',
      'reasoning-end',
      'tool-input-start',
      'tool-input-delta',
      'tool-input-available',
      'tool-output-available',
      'finish-step',
      'start-step',
      'text-start',
      ...chunks.filter((chunk) => chunk.type === 'text-delta').map(() => 'text-delta'),
      'text-end',
      'finish-step',
      'data-suggestions',
      'message-metadata',
      'finish'
    ]
  )
  const toolIds = new Set(chunks.flatMap((chunk) => ('toolCallId' in chunk ? [chunk.toolCallId] : [])))
  t.equal(toolIds.size, 1, 'the tool events share one toolCallId')
  t.match(
    chunks.find((chunk) => chunk.type === 'tool-input-available'),
    { toolName: 'algolia_search_index', input: { query: 'trail shoes' } }
  )
  t.match(
    chunks.find((chunk) => chunk.type === 'reasoning-start'),
    { id: 'reasoning-1' }
  )
  t.match(
    chunks.find((chunk) => chunk.type === 'text-start'),
    { id: 'text-2' }
  )

  const { message, errors } = await assembled(chunks)
  t.same(errors, [])
  const parts = message!.parts
  t.same(
    parts.map((part) => part.type),
    ['step-start', 'reasoning', 'tool-algolia_search_index', 'step-start', 'text', 'data-suggestions']
  )
  t.match(parts[2], { state: 'output-available', input: { query: 'trail shoes' }, output: { hits: [{ objectID: 'p-1' }, {}, {}], queryID: /^[0-9a-f]{32}$/ } })
  t.match(parts[4], { type: 'text', text: /^You asked: "\[search\] trail shoes"/, state: 'done' })
  t.match(parts[5], { data: { suggestions: ['Cheaper trail shoes?', String, String] } })
  t.match(message!.metadata, { model: 'stand-in-1', usage: { inputTokens: 12, outputTokens: 24 } }, 'messageMetadata from start and message-metadata')
})

t.test("a client-side tool stops at tool-input-available; the browser's result in the next request gets the answer", async (t) => {
  const question = user('m1', 'Buy it [client-tool]')
  const first = await chunksOf([question])
  t.notOk(
    first.some((chunk) => chunk.type === 'tool-output-available'),
    'no output: the browser runs the tool'
  )
  const { message, errors } = await assembled(first)
  t.same(errors, [])
  const call = message!.parts.find((part) => part.type === 'tool-addToCart')
  t.match(call, { state: 'input-available', input: { objectID: 'p-1', quantity: 1 } }, 'the tool waits for the browser')
  t.notOk(
    message!.parts.some((part) => part.type === 'text'),
    'no text yet'
  )

  const answered = {
    ...message!,
    parts: message!.parts.map((part) => (part.type === 'tool-addToCart' ? { ...part, state: 'output-available', output: { added: true } } : part))
  } as UIMessage
  const second = await assembled(await chunksOf([question, answered]))
  t.same(second.errors, [])
  t.match(second.message!.parts, [{ type: 'step-start' }, { type: 'text', text: /^Done: \{"added":true\}/ }])
})

t.test('a thinking answer streams reasoning before its text', async (t) => {
  const { message, errors } = await assembled(await chunksOf([user('m1', '[think] why?')]))
  t.same(errors, [])
  t.match(message!.parts, [{ type: 'step-start' }, { type: 'reasoning', text: /Thinking/ }, { type: 'text', text: /why\?/ }])
})

t.test("the transport's request reached the stand-in as the browser sent it, with the user token verified", async (t) => {
  await chunksOf([user('m1', 'hello')])
  t.match(shared.standIn.received.at(-1), {
    query: { compatibilityMode: 'ai-sdk-5' },
    headers: { 'x-algolia-application-id': TEST_KEYS.appId },
    body: { id: 'chat-stream-test', trigger: 'submit-message', messages: [{ id: 'm1', role: 'user' }] },
    userToken: { sub: 'alice' }
  })
})
