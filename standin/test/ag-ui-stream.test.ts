import t from 'tap'
import { HttpAgent } from '@ag-ui/client'
import type { BaseEvent } from '@ag-ui/client'
import { AGENT_ID, APP_HEADERS, sharedStandIn, sseData } from './standin-client.js'

// compatibilityMode=ag-ui (newer spec files: CompatibilityMode, AguiCompletionRequest with
// `threadId` and `runId` required): AG-UI events over SSE, RUN_STARTED echoing the request's
// ids, TEXT_MESSAGE_* and TOOL_CALL_* sharing their ids, RUN_FINISHED last. Read here with
// AG-UI's own client (HttpAgent validates the event sequence).

const shared = sharedStandIn(t)
const path = `/1/agents/${AGENT_ID}/completions?compatibilityMode=ag-ui`

t.test("a run through the real HttpAgent: the request's threadId and runId echoed, a tool round, text, in order", async (t) => {
  const agent = new HttpAgent({
    url: `${shared.url.href}${path}`,
    headers: { ...APP_HEADERS },
    threadId: 'thread-abc',
    initialMessages: [{ id: 'u1', role: 'user', content: '[search] trail shoes' }]
  })
  const events: BaseEvent[] = []
  await agent.runAgent({ runId: 'run-1' }, { onEvent: ({ event }) => void events.push(event) })
  const types = events.map((event) => event.type as string)
  const contents = types.filter((type) => type === 'TEXT_MESSAGE_CONTENT').length
  t.ok(contents > 1)
  t.same(types, [
    'RUN_STARTED',
    'TOOL_CALL_START',
    'TOOL_CALL_ARGS',
    'TOOL_CALL_END',
    'TOOL_CALL_RESULT',
    'TEXT_MESSAGE_START',
    ...Array<string>(contents).fill('TEXT_MESSAGE_CONTENT'),
    'TEXT_MESSAGE_END',
    'RUN_FINISHED'
  ])
  t.match(events[0], { threadId: 'thread-abc', runId: 'run-1' })
  t.match(events.at(-1), { threadId: 'thread-abc', runId: 'run-1' })
  const toolCallIds = new Set(
    events.filter((event) => event.type.startsWith('TOOL_CALL')).map((event) => (event as unknown as { toolCallId: string }).toolCallId)
  )
  t.equal(toolCallIds.size, 1, 'one tool call id across the tool events')
  const messageIds = new Set(
    events.filter((event) => event.type.startsWith('TEXT_MESSAGE')).map((event) => (event as unknown as { messageId: string }).messageId)
  )
  t.equal(messageIds.size, 1, 'one message id across the text events')
  t.match(
    events.find((event) => event.type === 'TOOL_CALL_START'),
    { toolCallName: 'algolia_search_index', parentMessageId: [...messageIds][0] }
  )
  t.match(JSON.parse((events.find((event) => event.type === 'TOOL_CALL_RESULT') as unknown as { content: string }).content), { hits: Array, queryID: String })
  const [messageId] = [...messageIds]
  t.equal(agent.messages.length, 3, 'the question, the answer, the tool result')
  t.match(
    agent.messages.slice(1),
    [
      {
        id: messageId,
        role: 'assistant',
        content: /^You asked: "\[search\] trail shoes"/,
        toolCalls: [{ id: [...toolCallIds][0], function: { name: 'algolia_search_index', arguments: '{"query":"trail shoes"}' } }]
      },
      { id: `${messageId}_tool`, role: 'tool', toolCallId: [...toolCallIds][0] }
    ],
    "the agent assembled one assistant message with its tool call, and the tool's result"
  )
})

t.test('the raw stream is SSE without the AI SDK headers', async (t) => {
  const answer = await shared.call('POST', path, { body: { threadId: 't1', runId: 'r1', messages: [{ id: 'u1', role: 'user', content: 'hi' }] } })
  t.equal(answer.status, 200)
  t.equal(answer.headers['content-type'], 'text/event-stream')
  t.equal(answer.headers['x-vercel-ai-ui-message-stream'], undefined)
  const events = sseData(answer.text) as Array<{ type: string }>
  t.same(events[0], { type: 'RUN_STARTED', threadId: 't1', runId: 'r1' })
  t.same(events.at(-1), { type: 'RUN_FINISHED', threadId: 't1', runId: 'r1' })
  t.notOk(answer.text.includes('[DONE]'), 'AG-UI has no [DONE] marker')
})

for (const missing of ['threadId', 'runId'] as const) {
  t.test(`a run without ${missing} is a 422 naming body.${missing}`, async (t) => {
    const body: Record<string, unknown> = { threadId: 't1', runId: 'r1', messages: [{ id: 'u1', role: 'user', content: 'hi' }] }
    delete body[missing]
    const answer = await shared.call('POST', path, { body })
    t.equal(answer.status, 422)
    t.same(answer.json(), { detail: [{ loc: ['body', missing], msg: 'Field required', type: 'missing' }] })
  })
}
