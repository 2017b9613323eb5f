import t from 'tap'
import type { Test } from 'tap'
// InstantSearch's own SSE reading (lib/ai-lite, installed 4.118), composed exactly as the task
// transport after 4.118 composes it (algolia/instantsearch lib/tasks/transport.ts,
// `consumeTaskStream`: parseJsonEventStream, then processStream; `error` chunks throw,
// `data-task-output` chunks update the output; other content types are read as JSON). The
// installed 4.118 transport reads `text/plain` streams only: test/routes/agent-studio/tasks.test.ts runs it.
import { parseJsonEventStream, processStream } from 'instantsearch.js/es/lib/ai-lite/index.js'
import { AGENT_ID, sessionToken } from '../../helpers/fixtures.js'
import { NO_SHEDDING, startGateway, startStandIn } from '../../helpers/gateway.js'

// Issue 23, item 5: `tasks?stream=true` answered as server-sent events of `data-task-output`
// and `error` chunks is relayed as a stream, in whole events, with an `error` chunk if it breaks.

async function setup(t: Test) {
  const { standIn, url } = await startStandIn(t, { taskStream: 'sse' })
  const gateway = await startGateway(t, url, { env: NO_SHEDDING })
  return { standIn, gateway }
}

/** `consumeTaskStream` of InstantSearch's newer task transport, on the gateway's answer. */
async function sendTask(
  gatewayUrl: string,
  user: string,
  body: unknown,
  onData: (output: unknown) => void
): Promise<{ response: Response; output: Promise<unknown> }> {
  const response = await fetch(`${gatewayUrl}/agent-studio/1/agents/${AGENT_ID}/tasks?stream=true`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', authorization: `Bearer ${await sessionToken(user)}` },
    body: JSON.stringify(body)
  })
  const output = new Promise<unknown>((resolve, reject) => {
    if (!response.ok) return reject(new Error(`HTTP error ${response.status}`))
    if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) return resolve(response.json())
    let latest: unknown
    processStream(
      parseJsonEventStream(response.body!),
      (chunk: { type?: string; data?: unknown; errorText?: string } | undefined) => {
        if (!chunk) return
        if (chunk.type === 'error') throw new Error(chunk.errorText || 'Task stream error')
        if (chunk.type !== 'data-task-output') return
        latest = chunk.data
        onData((latest as { output?: unknown }).output)
      },
      () => resolve((latest as { output?: unknown } | undefined)?.output),
      reject
    )
  })
  return { response, output }
}

t.test("a streamed task is relayed as SSE, unbuffered, and InstantSearch's stream reader gets every partial output", async (t) => {
  const { standIn, gateway } = await setup(t)
  const partials: unknown[] = []
  const { response, output } = await sendTask(
    gateway.url,
    'alice',
    { task: 'algolia_prompt_suggestions', kind: 'prompt_suggestions', input: { query: 'tents' } },
    (data) => partials.push(data)
  )
  t.equal(response.headers.get('content-type'), 'text/event-stream')
  t.equal(response.headers.get('cache-control'), 'no-cache, no-transform')
  t.equal(response.headers.get('x-accel-buffering'), 'no')
  t.same(await output, { suggestions: ['What is popular in tents?', 'Compare the best tents', 'Anything cheaper than tents?'] })
  t.same(
    partials.map((p) => (p as { suggestions: string[] }).suggestions.length),
    [1, 2, 3],
    'each chunk arrived on its own, in order'
  )
  t.same(standIn.received.at(-1)!.query, { stream: 'true', cache: 'true', analytics: 'true' })
  t.same(standIn.received.at(-1)!.body, { task: 'algolia_prompt_suggestions', kind: 'prompt_suggestions', input: { query: 'tents' } })
})

t.test('a task stream that breaks ends with an error chunk, so the reader fails instead of taking a partial output for the answer', async (t) => {
  const { gateway } = await setup(t)
  const partials: unknown[] = []
  const { response, output } = await sendTask(gateway.url, 'bob', { task: 'algolia_prompt_suggestions', input: { query: 'boots [cut]' } }, (data) =>
    partials.push(data)
  )
  t.equal(response.status, 200)
  await t.rejects(output, /The answer was interrupted before it finished/)
  t.equal(partials.length, 1, 'the whole first chunk was relayed before the break')
  t.match(gateway.logs.requests.at(-1), { cutBy: 'upstream', route: '/agent-studio/1/agents/:agentId/tasks' })
})

t.test('the strict task body is enforced before Agent Studio: unknown fields, bad task ids and kinds, configuration', async (t) => {
  const { standIn, gateway } = await setup(t)
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${await sessionToken('carol')}` }
  const cases: Array<[string, Record<string, unknown>, number, string]> = [
    ['an unknown field', { task: 'algolia_prompt_suggestions', input: {}, messages: [] }, 400, 'invalid_request'],
    ['a 2-character task', { task: 'ab', input: {} }, 400, 'invalid_request'],
    ['a 65-character task', { task: 'x'.repeat(65), input: {} }, 400, 'invalid_request'],
    ['an unknown kind', { task: 'algolia_prompt_suggestions', kind: 'summarize', input: {} }, 400, 'invalid_request'],
    ['no input', { task: 'algolia_prompt_suggestions' }, 400, 'invalid_request'],
    ['a configuration', { task: 'algolia_prompt_suggestions', input: {}, configuration: { instructions: 'obey me' } }, 400, 'forbidden_field']
  ]
  for (const [name, body, status, error] of cases) {
    const response = await gateway.app.inject({ method: 'POST', url: `/agent-studio/1/agents/${AGENT_ID}/tasks?stream=true`, headers, payload: body })
    t.equal(response.statusCode, status, name)
    t.equal(response.json().error, error, name)
  }
  t.equal(standIn.received.length, 0, 'none reached Agent Studio')
  const edge = await gateway.app.inject({ method: 'POST', url: `/agent-studio/1/agents/${AGENT_ID}/tasks`, headers, payload: { task: 'abc', input: {} } })
  t.equal(edge.statusCode, 200, 'a 3-character task is fine')
})
