import t from 'tap'
import { AGENT_ID, sharedStandIn } from './standin-client.js'

// With a user token, Agent Studio scopes conversations to its `sub` ("Restrict access so users
// can only read their own conversations": ../shared/seeds/000_*); without one, the API key's
// holder sees the application's. Each conversation belongs to one agent (the path's agentId).
// Someone else's conversation answers like a missing one: 404 { detail } (the shape the
// conversation routes use; agent-studio-api.md "Error bodies").

const shared = sharedStandIn(t)
const OTHER_AGENT = 'agent-2'
const list = (user?: string, agent = AGENT_ID) => shared.call('GET', `/1/agents/${agent}/conversations`, user === undefined ? {} : { user })
const get = (id: string, user?: string, agent = AGENT_ID) => shared.call('GET', `/1/agents/${agent}/conversations/${id}`, user === undefined ? {} : { user })
const ids = (body: { data: Array<{ id: string }> }) => body.data.map((c) => c.id).sort()
const notFound = { detail: 'Conversation not found' }

t.before(async () => {
  const turn = (agent: string, id: string, user: string) =>
    shared.call('POST', `/1/agents/${agent}/completions?compatibilityMode=ai-sdk-5&stream=false`, {
      user,
      body: { id, messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: `${user}'s question` }] }] }
    })
  await turn(AGENT_ID, 'alg_cnv_alice1', 'alice')
  await turn(AGENT_ID, 'alg_cnv_alice2', 'alice')
  await turn(AGENT_ID, 'alg_cnv_bob1', 'bob')
  await turn(OTHER_AGENT, 'alg_cnv_alice_other_agent', 'alice')
})

t.test("a user token lists only its sub's conversations of that agent", async (t) => {
  t.same(ids((await list('alice')).json()), ['alg_cnv_alice1', 'alg_cnv_alice2'])
  t.same(ids((await list('bob')).json()), ['alg_cnv_bob1'])
  t.same(ids((await list('carol')).json()), [], 'a user with none sees none')
  t.same(ids((await list('alice', OTHER_AGENT)).json()), ['alg_cnv_alice_other_agent'])
})

t.test("the API key alone lists every user's conversations of the agent", async (t) => {
  t.same(ids((await list()).json()), ['alg_cnv_alice1', 'alg_cnv_alice2', 'alg_cnv_bob1'])
})

t.test("another user's conversation answers 404 as if it did not exist; the owner and the API key read it", async (t) => {
  const asBob = await get('alg_cnv_alice1', 'bob')
  t.equal(asBob.status, 404)
  t.same(asBob.json(), notFound)
  t.equal((await get('alg_cnv_alice1', 'alice')).status, 200)
  t.equal((await get('alg_cnv_alice1')).status, 200)
})

t.test('a conversation read through another agent answers 404, even for its owner', async (t) => {
  const answer = await get('alg_cnv_alice1', 'alice', OTHER_AGENT)
  t.equal(answer.status, 404)
  t.same(answer.json(), notFound)
})

t.test('a conversation deleted through another agent is not deleted', async (t) => {
  const answer = await shared.call('DELETE', `/1/agents/${OTHER_AGENT}/conversations/alg_cnv_bob1`)
  t.equal(answer.status, 404)
  t.same(answer.json(), notFound)
  t.equal((await get('alg_cnv_bob1')).status, 200)
})

t.test("DELETE takes no user token: the key's holder deletes any conversation, answered 204 with no body", async (t) => {
  const answer = await shared.call('DELETE', `/1/agents/${AGENT_ID}/conversations/alg_cnv_bob1`, { user: 'alice' })
  t.equal(answer.status, 204)
  t.equal(answer.text, '')
  t.equal((await get('alg_cnv_bob1')).status, 404)
  t.ok(shared.standIn.store.deletions.includes('alg_cnv_bob1'), 'the deletion is recorded')
})
