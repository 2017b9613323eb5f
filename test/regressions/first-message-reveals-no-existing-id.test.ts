import t from 'tap'
import { AGENT_ID, completionBody } from '../helpers/fixtures.js'
import { conversationSetup as setup } from '../helpers/conversations.js'

// Bug: a first message naming an id that existed upstream answered 404, a fresh id 200: anyone
// could tell whether an id was in use. Now both are the caller's own conversation.
t.test("a first message naming someone else's existing id answers exactly like a fresh id", async (t) => {
  const { a } = await setup(t)
  const path = `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`
  const taken = await a('POST', path, completionBody('hello', { id: 'conv_b1' }))
  const fresh = await a('POST', path, completionBody('hello', { id: 'never_used_1' }))
  t.equal(taken.statusCode, 200)
  t.equal(fresh.statusCode, 200)
  const shape = (body: string) => (JSON.parse(body) as { role: string; parts: unknown[] }).role
  t.equal(shape(taken.body), shape(fresh.body))
  t.same(Object.keys(taken.headers).sort(), Object.keys(fresh.headers).sort(), 'the same headers')
})
