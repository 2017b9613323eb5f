import t from 'tap'
import { AGENT_ID, sharedStandIn } from './standin-client.js'

// POST /1/agents/{agentId}/tasks (newer spec files: paths/agents/agentTasks.yml, x-acl search;
// TaskRequest `{ task?, kind?, input, configuration? }`, extra fields forbidden): `{ output }`,
// or with `?stream=true` "the raw partial JSON text stream expected by AI SDK v5 useObject. The
// streamed JSON is the task output itself"; validation errors are a 422 HTTPValidationError.

const shared = sharedStandIn(t)
const path = `/1/agents/${AGENT_ID}/tasks`

t.test('a task answers { output } with suggestions built from its input', async (t) => {
  const answer = await shared.call('POST', path, { body: { task: 'prompt_suggestions', kind: 'prompt_suggestions', input: { query: 'tents' } } })
  t.equal(answer.status, 200)
  t.same(answer.json(), { output: { suggestions: ['What is popular in tents?', 'Compare the best tents', 'Anything cheaper than tents?'] } })
})

t.test('stream=true streams the output itself as JSON text, which parses to the same object', async (t) => {
  const answer = await shared.call('POST', `${path}?stream=true`, { body: { input: { messages: [{ role: 'user', content: 'lamps' }] } } })
  t.equal(answer.status, 200)
  t.equal(answer.headers['content-type'], 'text/plain; charset=utf-8')
  t.same(JSON.parse(answer.text), { suggestions: ['What is popular in lamps?', 'Compare the best lamps', 'Anything cheaper than lamps?'] })
})

t.test('an unknown field, a missing input or a wrong kind is a 422 naming each', async (t) => {
  const answer = await shared.call('POST', path, { body: { kind: 'summary', prompt: 'override' } })
  t.equal(answer.status, 422)
  t.same(answer.json(), {
    detail: [
      { loc: ['body', 'prompt'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' },
      { loc: ['body', 'input'], msg: 'Field required', type: 'missing' },
      { loc: ['body', 'kind'], msg: "Input should be 'prompt_suggestions'", type: 'enum' }
    ]
  })
})

t.test('a task for an agent that does not exist answers 404', async (t) => {
  const answer = await shared.call('POST', '/1/agents/no-such-agent/tasks', { body: { input: {} } })
  t.equal(answer.status, 404)
  t.same(answer.json(), { message: 'Agent no-such-agent not found', status: 404 })
})
