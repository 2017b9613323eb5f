import t from 'tap'
import { AGENT_ID, sharedStandIn } from './standin-client.js'

// Two administration routes that need only `logs` and no user token, which is why the gateway
// must never let a browser reach them (agent-studio-api.md, "Everything else is
// administration"): GET /1/agents/{agentId}/conversations/export (paths/conversations/
// conversationsExport.yml: an array of ConversationFullResponse, everyone's) and
// DELETE /1/agents/{agentId}/conversations (paths/conversations/conversations.yml `delete`:
// without dates, every conversation of the agent; 204).

const shared = sharedStandIn(t)
const OTHER_AGENT = 'agent-2'
const turn = (agent: string, id: string, user: string) =>
  shared.call('POST', `/1/agents/${agent}/completions?compatibilityMode=ai-sdk-5&stream=false`, {
    user,
    body: { id, messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: `${user} asks` }] }] }
  })

t.before(async () => {
  await turn(AGENT_ID, 'alg_cnv_export_alice', 'alice')
  await turn(AGENT_ID, 'alg_cnv_export_bob', 'bob')
  await turn(OTHER_AGENT, 'alg_cnv_export_other', 'alice')
})

t.test("the export returns every user's conversations of the agent, with their messages, whatever user token comes along", async (t) => {
  for (const options of [{}, { user: 'alice' }]) {
    const answer = await shared.call('GET', `/1/agents/${AGENT_ID}/conversations/export`, options)
    t.equal(answer.status, 200)
    const exported = answer.json<Array<{ id: string; userToken: string; messages: Array<{ role: string }> }>>()
    t.ok(Array.isArray(exported), 'an array, not a page')
    t.same(exported.map((c) => [c.id, c.userToken]).sort(), [
      ['alg_cnv_export_alice', 'alice'],
      ['alg_cnv_export_bob', 'bob']
    ])
    t.same(
      exported[0]!.messages.map((m) => m.role),
      ['user', 'assistant']
    )
  }
})

t.test('the export filters by startDate and endDate', async (t) => {
  t.same((await shared.call('GET', `/1/agents/${AGENT_ID}/conversations/export?endDate=2000-01-01`)).json(), [])
})

t.test('the bulk DELETE within dates that match nothing deletes nothing', async (t) => {
  const answer = await shared.call('DELETE', `/1/agents/${AGENT_ID}/conversations?startDate=2999-01-01`)
  t.equal(answer.status, 204)
  t.equal((await shared.call('GET', `/1/agents/${AGENT_ID}/conversations`)).json<{ pagination: { totalCount: number } }>().pagination.totalCount, 2)
})

t.test("the bulk DELETE without dates removes every conversation of that agent and no other's", async (t) => {
  const answer = await shared.call('DELETE', `/1/agents/${AGENT_ID}/conversations`)
  t.equal(answer.status, 204)
  t.equal(answer.text, '')
  t.same((await shared.call('GET', `/1/agents/${AGENT_ID}/conversations`)).json<{ data: unknown[] }>().data, [])
  t.same(shared.standIn.store.deletions.slice().sort(), ['alg_cnv_export_alice', 'alg_cnv_export_bob'])
  t.equal((await shared.call('GET', `/1/agents/${OTHER_AGENT}/conversations/alg_cnv_export_other`)).status, 200)
})
