import t from 'tap'
import { AGENT_ID, sharedStandIn, sseData } from './standin-client.js'

// Newer Agent Studio streams tasks as SSE (agent-studio-api.md "Tasks"; InstantSearch's task
// transport after 4.118 reads `{ type: "data-task-output", data }` and `{ type: "error", errorText }`
// from `text/event-stream`). The stand-in does so with `taskStream: 'sse'`.

const shared = sharedStandIn(t, { taskStream: 'sse' })

t.test('stream=true answers text/event-stream: one data-task-output chunk per partial output, then [DONE]', async (t) => {
  const answer = await shared.call('POST', `/1/agents/${AGENT_ID}/tasks?stream=true`, {
    body: { task: 'algolia_prompt_suggestions', input: { query: 'tents' } }
  })
  t.equal(answer.status, 200)
  t.equal(answer.headers['content-type'], 'text/event-stream')
  const events = sseData(answer.text)
  t.same(events.at(-1), '[DONE]')
  t.same(
    events.slice(0, -1).map((e) => (e as { type: string }).type),
    ['data-task-output', 'data-task-output', 'data-task-output']
  )
  t.same((events[2] as { data: unknown }).data, {
    output: { suggestions: ['What is popular in tents?', 'Compare the best tents', 'Anything cheaper than tents?'] }
  })
})

t.test('without stream=true the answer is still { output } JSON; the body stays strict', async (t) => {
  const answer = await shared.call('POST', `/1/agents/${AGENT_ID}/tasks`, { body: { task: 'algolia_prompt_suggestions', input: { query: 'tents' } } })
  t.match(answer.json(), { output: { suggestions: Array } })
  const strict = await shared.call('POST', `/1/agents/${AGENT_ID}/tasks?stream=true`, { body: { task: 'ab', input: {}, extra: 1 } })
  t.equal(strict.status, 422)
  t.match(strict.json(), { detail: [{ loc: ['body', 'extra'], type: 'extra_forbidden' }, { loc: ['body', 'task'] }] })
})
