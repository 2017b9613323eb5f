import t from 'tap'
import { AGENT_ID, sharedStandIn } from './standin-client.js'

// /1/user-data/{userToken} (paths/user-data/userData.yml, x-acl logs): GET answers a
// UserDataResponse `{ conversations: ConversationFullResponse[], memories: MemoryRecord[] }` of
// that user, every agent's; DELETE "Permanently deletes all messages for the given user token.
// Does not delete conversations." and answers 204.

const shared = sharedStandIn(t)
const turn = (agent: string, id: string, user: string) =>
  shared.call('POST', `/1/agents/${agent}/completions?compatibilityMode=ai-sdk-5&stream=false`, {
    user,
    body: { id, messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: `${user}'s private question` }] }] }
  })

t.before(async () => {
  await turn(AGENT_ID, 'alg_cnv_ud_dana1', 'dana')
  await turn('agent-2', 'alg_cnv_ud_dana2', 'dana')
  await turn(AGENT_ID, 'alg_cnv_ud_erik', 'erik')
})

t.test("GET returns the user's conversations of every agent, with their messages, and the memories list", async (t) => {
  const answer = await shared.call('GET', '/1/user-data/dana')
  t.equal(answer.status, 200)
  const body = answer.json<{ conversations: Array<{ id: string; agentId: string; messages: unknown[] }>; memories: unknown[] }>()
  t.same(Object.keys(body).sort(), ['conversations', 'memories'])
  t.same(body.conversations.map((c) => [c.id, c.agentId]).sort(), [
    ['alg_cnv_ud_dana1', AGENT_ID],
    ['alg_cnv_ud_dana2', 'agent-2']
  ])
  t.ok(
    body.conversations.every((c) => c.messages.length === 2),
    'full conversations'
  )
  t.same(body.memories, [])
})

t.test("DELETE removes the user's messages only: 204, the conversations and their titles remain, other users untouched", async (t) => {
  const answer = await shared.call('DELETE', '/1/user-data/dana')
  t.equal(answer.status, 204)
  t.equal(answer.text, '')
  const after = (await shared.call('GET', '/1/user-data/dana')).json<{ conversations: Array<{ title: string; messageCount: number; messages: unknown[] }> }>()
  t.equal(after.conversations.length, 2, 'the conversations are still there')
  t.ok(
    after.conversations.every((c) => c.messages.length === 0 && c.messageCount === 0),
    'without messages'
  )
  t.same(
    after.conversations.map((c) => c.title),
    ["dana's private question", "dana's private question"],
    'the titles still quote the first message'
  )
  t.equal((await shared.call('GET', '/1/user-data/erik')).json<{ conversations: Array<{ messages: unknown[] }> }>().conversations[0]!.messages.length, 2)
})
