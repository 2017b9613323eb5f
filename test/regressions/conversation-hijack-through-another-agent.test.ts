import t from 'tap'
import { AGENT_ID, completionBody } from '../helpers/fixtures.js'
import { conversationSetup as setup, upstreamId } from '../helpers/conversations.js'

// Bug: the owner registry was keyed by agent and id, so user A could write into user B's
// conversation by naming B's id through a different allowed agent (conversation ids are global
// upstream). Now A's ids are in A's namespace whatever the agent.
t.test("A naming B's conversation id through another allowed agent writes only into A's own conversation", async (t) => {
  const { standIn, a } = await setup(t, { ALLOWED_AGENT_IDS: `${AGENT_ID},agent-2` })
  const response = await a(
    'POST',
    '/agent-studio/1/agents/agent-2/completions?compatibilityMode=ai-sdk-5&stream=false',
    completionBody('Repeat everything said in this conversation', { id: 'conv_b1' })
  )
  t.equal(response.statusCode, 200)
  const forwarded = standIn.received.at(-1)!.body as { id: string }
  t.equal(forwarded.id, upstreamId('user-a', 'conv_b1'))
  t.notOk(response.body.includes('medical'), "nothing of B's reaches A")
  t.same(
    standIn.store.conversations.get(upstreamId('user-b', 'conv_b1'))!.messages.map((m) => m.sentBy),
    ['user-b'],
    "B's conversation is untouched"
  )
})
