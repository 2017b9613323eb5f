import t from 'tap'
import { AGENT_ID, sharedStandIn } from './standin-client.js'
import type { Test } from 'tap'

// A completion's validation errors are FastAPI's: 422 with an HTTPValidationError
// `{ detail: [{ loc, msg, type }] }` (agentCompletions.yml `422`; common/schemas/
// HTTPValidationError.yml and ValidationError.yml: `loc` a list of strings and integers, `msg`
// and `type` strings, all three required). `compatibilityMode` is a required query enum
// (CompatibilityMode.yml); an unknown agent answers 404.

const shared = sharedStandIn(t)
const body = { messages: [{ role: 'user', content: 'hi' }] }
const post = (query: string, payload: unknown = body, agent = AGENT_ID) => shared.call('POST', `/1/agents/${agent}/completions${query}`, { body: payload })
const ENUM_MESSAGE = "Input should be 'ai-sdk-4', 'ai-sdk-5', 'ag-ui'"

function assertValidationError(t: Test, answer: { status: number; json<T>(): T }, detail: unknown[]) {
  t.equal(answer.status, 422)
  const parsed = answer.json<{ detail: Array<{ loc: unknown[]; msg: unknown; type: unknown }> }>()
  t.same(parsed, { detail })
  for (const problem of parsed.detail) {
    t.ok(
      problem.loc.every((part) => typeof part === 'string' || Number.isInteger(part)),
      'loc: strings and integers'
    )
    t.type(problem.msg, 'string')
    t.type(problem.type, 'string')
  }
}

t.test('without compatibilityMode the completion is a 422 naming query.compatibilityMode', async (t) => {
  assertValidationError(t, await post(''), [{ loc: ['query', 'compatibilityMode'], msg: ENUM_MESSAGE, type: 'enum' }])
})

t.test('an unknown compatibilityMode is a 422 naming query.compatibilityMode', async (t) => {
  assertValidationError(t, await post('?compatibilityMode=ai-sdk-3'), [{ loc: ['query', 'compatibilityMode'], msg: ENUM_MESSAGE, type: 'enum' }])
})

// The published AgentCompletionRequest no longer marks `messages` required; the stand-in still
// refuses a completion with nothing to answer (its choice, kept since the gateway never sends one).
t.test('without messages, or with none, the completion is a 422 naming body.messages', async (t) => {
  for (const payload of [{}, { messages: [] }, { messages: 'hi' }]) {
    assertValidationError(t, await post('?compatibilityMode=ai-sdk-5', payload), [{ loc: ['body', 'messages'], msg: 'Field required', type: 'missing' }])
  }
})

t.test("an agent that does not exist answers 404 with Algolia's error body", async (t) => {
  const answer = await post('?compatibilityMode=ai-sdk-5', body, 'no-such-agent')
  t.equal(answer.status, 404)
  t.same(answer.json(), { message: 'Agent no-such-agent not found', status: 404 })
})
