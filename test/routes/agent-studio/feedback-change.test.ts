import t from 'tap'
import { AGENT_ID, APP_ORIGIN, sessionToken } from '../../helpers/fixtures.js'
import { startGateway, startStandIn } from '../../helpers/gateway.js'

// Issue 23, item 4: PATCH /agent-studio/1/feedback changes a vote (Agent Studio's search-ACL
// `PATCH /1/feedback`), with exactly the checks of POST.

async function setup(t: Parameters<typeof startStandIn>[0]) {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { listen: false, env: { UPSTREAM_ORIGIN: 'https://shop.example.com' } })
  const as =
    (user: string) =>
    async (method: 'POST' | 'PATCH', payload: unknown, headers: Record<string, string> = {}) =>
      gateway.app.inject({
        method,
        url: '/agent-studio/1/feedback',
        headers: { authorization: `Bearer ${await sessionToken(user)}`, 'content-type': 'application/json', ...headers },
        payload: payload as object
      })
  return { standIn, gateway, a: as('user-a'), b: as('user-b') }
}

t.test('a vote is changed: 200 with the updated feedback, through the header boundary', async (t) => {
  const { standIn, a } = await setup(t)
  const created = await a('POST', { messageId: 'alg_msg_1', agentId: AGENT_ID, vote: 1 })
  t.equal(created.statusCode, 201)
  const changed = await a('PATCH', { messageId: 'alg_msg_1', agentId: AGENT_ID, vote: 0, tags: ['wrong'], notes: 'It was not right after all' })
  t.equal(changed.statusCode, 200)
  t.match(changed.json(), { id: created.json().id, agentId: AGENT_ID, messageId: 'alg_msg_1', vote: 0, tags: ['wrong'], notes: 'It was not right after all' })
  const seen = standIn.received.at(-1)!
  t.equal(seen.method, 'PATCH')
  t.equal(seen.path, '/agent-studio/1/feedback')
  t.same(seen.body, { messageId: 'alg_msg_1', agentId: AGENT_ID, vote: 0, tags: ['wrong'], notes: 'It was not right after all' })
  t.equal(seen.userToken?.sub, 'user-a', "the caller's own user token")
  t.equal(seen.headers.origin, 'https://shop.example.com')
  t.equal((await a('PATCH', { messageId: 'alg_msg_1', agentId: AGENT_ID, notes: 'only the notes' })).json().vote, 0, 'a partial change keeps the vote')
})

t.test('the same checks as POST: every bad change is refused before Agent Studio, an empty change too', async (t) => {
  const { standIn, a } = await setup(t)
  const cases: Array<[string, Record<string, unknown>, number, string]> = [
    ['no messageId', { agentId: AGENT_ID, vote: 1 }, 400, 'invalid_request'],
    ['no agentId', { messageId: 'm', vote: 1 }, 400, 'invalid_request'],
    ['nothing to change', { messageId: 'm', agentId: AGENT_ID }, 400, 'invalid_request'],
    ['vote 2', { messageId: 'm', agentId: AGENT_ID, vote: 2 }, 400, 'invalid_request'],
    ['11 tags', { messageId: 'm', agentId: AGENT_ID, tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, 400, 'invalid_request'],
    ['1001 characters of notes', { messageId: 'm', agentId: AGENT_ID, notes: 'x'.repeat(1001) }, 400, 'invalid_request'],
    ["an extra field (someone else's user token)", { messageId: 'm', agentId: AGENT_ID, vote: 1, userToken: 'user-b' }, 400, 'invalid_request'],
    ['an agent not allowed', { messageId: 'm', agentId: 'other-agent', vote: 1 }, 403, 'agent_not_allowed']
  ]
  for (const [name, body, status, error] of cases) {
    const response = await a('PATCH', body)
    t.equal(response.statusCode, status, name)
    t.equal(response.json().error, error, name)
  }
  t.equal(standIn.received.length, 0, 'none of them reached Agent Studio')
  const form = await a('PATCH', 'vote=1', { 'content-type': 'application/x-www-form-urlencoded' })
  t.equal(form.statusCode, 415, 'JSON only, like POST')
})

t.test("a user cannot change another user's vote (Agent Studio scopes it to the user token; the gateway always sends the caller's)", async (t) => {
  const { standIn, a, b } = await setup(t)
  await a('POST', { messageId: 'alg_msg_a', agentId: AGENT_ID, vote: 1 })
  const attempt = await b('PATCH', { messageId: 'alg_msg_a', agentId: AGENT_ID, vote: 0 })
  t.equal(attempt.statusCode, 404)
  t.equal(standIn.store.feedback[0]!.stored?.vote, 1, "A's vote is unchanged")
})

t.test('a cross-origin page may send PATCH (the preflight allows it)', async (t) => {
  const { gateway } = await setup(t)
  const preflight = await gateway.app.inject({
    method: 'OPTIONS',
    url: '/agent-studio/1/feedback',
    headers: { origin: APP_ORIGIN, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'content-type' }
  })
  t.equal(preflight.statusCode, 204)
  t.match(preflight.headers['access-control-allow-methods'], /(^|,\s*)PATCH(,|$)/)
})
