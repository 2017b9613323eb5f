import t from 'tap'
import type { Test } from 'tap'
import { AGENT_ID, sessionToken } from '../../helpers/fixtures.js'
import { startGateway, startStandIn } from '../../helpers/gateway.js'

async function setup(t: Test) {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { listen: false })
  const a = async (method: 'POST', url: string, payload: unknown) =>
    gateway.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${await sessionToken('user-a')}`, 'content-type': 'application/json' },
      payload: payload as object
    })
  return { standIn, a }
}

t.test('feedback is validated field by field before forwarding', async (t) => {
  const { standIn, a } = await setup(t)
  const good = { messageId: 'alg_msg_1', agentId: AGENT_ID, vote: 1, tags: ['helpful'], notes: 'Great answer' }
  const ok = await a('POST', '/agent-studio/1/feedback', good)
  t.equal(ok.statusCode, 201, "Agent Studio's status is relayed")
  t.match(ok.json(), {
    id: /^alg_fbk_/,
    agentId: AGENT_ID,
    messageId: 'alg_msg_1',
    vote: 1,
    tags: ['helpful'],
    notes: 'Great answer',
    createdAt: String,
    updatedAt: String
  })
  t.match(standIn.store.feedback, [{ body: good, userToken: 'user-a' }])
  t.match(standIn.received.at(-1), { path: '/agent-studio/1/feedback' })

  const cases: Array<[string, Record<string, unknown>, number, string]> = [
    ['no messageId', { agentId: AGENT_ID, vote: 1 }, 400, 'invalid_request'],
    ['vote 2', { ...good, vote: 2 }, 400, 'invalid_request'],
    ['vote "1"', { ...good, vote: 'up' }, 400, 'invalid_request'],
    ['11 tags', { ...good, tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, 400, 'invalid_request'],
    ['a 51-character tag', { ...good, tags: ['x'.repeat(51)] }, 400, 'invalid_request'],
    ['1001 characters of notes', { ...good, notes: 'x'.repeat(1001) }, 400, 'invalid_request'],
    ['an extra field', { ...good, userToken: 'user-b' }, 400, 'invalid_request'],
    ['an agent not allowed', { ...good, agentId: 'other-agent' }, 403, 'agent_not_allowed']
  ]
  for (const [name, body, status, error] of cases) {
    const response = await a('POST', '/agent-studio/1/feedback', body)
    t.equal(response.statusCode, status, name)
    t.equal(response.json().error, error, name)
  }
  t.equal(standIn.store.feedback.length, 1, 'none of them reached Agent Studio')
  const limits = await a('POST', '/agent-studio/1/feedback', { ...good, tags: Array.from({ length: 10 }, () => 'x'.repeat(50)), notes: 'x'.repeat(1000) })
  t.equal(limits.statusCode, 201, 'exactly at the limits is fine')
})
