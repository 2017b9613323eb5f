import t from 'tap'
import { AGENT_ID, completionBody, sessionToken } from '../helpers/fixtures.js'
import { conversationSetup as setup } from '../helpers/conversations.js'
import { startGateway } from '../helpers/gateway.js'

// Bug: after a DELETE, other replicas kept a stale owner record for minutes. Now a conversation
// has no state in any gateway: a second replica agrees at once.
t.test('after a DELETE through one replica, another replica starts the same id afresh for its owner', async (t) => {
  const { standIn, gateway, a } = await setup(t)
  const path = `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`
  t.equal((await a('POST', path, completionBody('first life', { id: 'reborn' }))).statusCode, 200)
  t.equal((await a('DELETE', `/agent-studio/1/agents/${AGENT_ID}/conversations/reborn`)).statusCode, 204)
  const other = await startGateway(t, new URL(gateway.config.algolia.agentStudioUrl.href), { listen: false })
  t.equal(other.config.redis.connection, undefined, 'no shared state between the replicas')
  const again = await other.app.inject({
    method: 'POST',
    url: path,
    headers: { authorization: `Bearer ${await sessionToken('user-a')}`, 'content-type': 'application/json' },
    payload: completionBody('second life', { id: 'reborn' })
  })
  t.equal(again.statusCode, 200)
  const read = await a('GET', `/agent-studio/1/agents/${AGENT_ID}/conversations/reborn`)
  t.equal(read.statusCode, 200)
  t.match(read.body, /second life/)
  t.notMatch(read.body, /first life/)
  t.equal(standIn.store.deletions.length, 1)
})
