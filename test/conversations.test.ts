import t from 'tap'
import type { Test } from 'tap'
import { AGENT_ID, completionBody, sessionToken } from './helpers/fixtures.js'
import { startGateway, startStandIn } from './helpers/gateway.js'

/** Users A and B, each with a conversation in the stand-in, and a gateway in front. */
async function setup(t: Test, env: Record<string, string> = {}) {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { listen: false, env })
  standIn.store.append(AGENT_ID, 'conv_a1', 'user-a', { role: 'user', text: 'A private question', sentBy: 'user-a' })
  standIn.store.append(AGENT_ID, 'conv_a2', 'user-a', { role: 'user', text: 'A second question', sentBy: 'user-a' })
  standIn.store.append(AGENT_ID, 'conv_b1', 'user-b', { role: 'user', text: 'B medical history', sentBy: 'user-b' })
  const as = (user: string) => async (method: 'GET' | 'DELETE' | 'POST', url: string, payload?: unknown) =>
    gateway.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${await sessionToken(user)}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { payload: payload as object })
    })
  return { standIn, gateway, a: as('user-a'), b: as('user-b') }
}

const base = `/agent-studio/1/agents/${AGENT_ID}/conversations`

t.test('A lists only A\'s conversations; query validated and filtered', async (t) => {
  const { standIn, a } = await setup(t)
  const response = await a('GET', `${base}?page=1&limit=10&startDate=2026-01-01&endDate=2026-12-31&userToken=user-b&agentId=x`)
  t.equal(response.statusCode, 200)
  const body = response.json() as { data: Array<{ id: string }>; pagination: { totalCount: number } }
  t.same(body.data.map((c) => c.id).sort(), ['conv_a1', 'conv_a2'])
  t.equal(body.pagination.totalCount, 2)
  const seen = standIn.received.at(-1)!
  t.same(seen.query, { page: '1', limit: '10', startDate: '2026-01-01', endDate: '2026-12-31' }, 'nothing else is passed')
  t.equal(seen.userToken?.sub, 'user-a')

  for (const [query, message] of [
    ['limit=0', /limit must be a whole number from 1 to 100/],
    ['limit=101', /limit must be/],
    ['page=0', /page must be/],
    ['page=abc', /page must be/],
    ['startDate=2026-02-30', /startDate must be a date/],
    ['endDate=yesterday', /endDate must be a date/],
    ['startDate=2026-05-01&endDate=2026-04-01', /startDate must not be after endDate/]
  ] as const) {
    const refused = await a('GET', `${base}?${query}`)
    t.equal(refused.statusCode, 400, query)
    t.match(refused.json(), { error: 'invalid_query', message }, query)
  }
})

t.test('A reads A\'s conversation; B\'s answers 404 exactly like a missing one', async (t) => {
  const { a, gateway } = await setup(t)
  const own = await a('GET', `${base}/conv_a1`)
  t.equal(own.statusCode, 200)
  t.match(own.json(), { id: 'conv_a1', messages: [{ parts: [{ text: 'A private question' }] }] })

  const others = await a('GET', `${base}/conv_b1`)
  const missing = await a('GET', `${base}/conv_zz`)
  t.equal(others.statusCode, 404)
  t.equal(missing.statusCode, 404)
  const strip = (body: Record<string, unknown>) => ({ ...body, requestId: '…' })
  t.same(strip(others.json()), strip(missing.json()), 'no oracle: same body')
  t.same(strip(others.json()), { error: 'conversation_not_found', message: 'There is no such conversation.', requestId: '…' })
  t.same(Object.keys(others.headers).sort(), Object.keys(missing.headers).sort(), 'and the same headers')
  t.notMatch(others.body, /medical/)
  t.match(gateway.logs.requests.at(-2), { status: 404, rule: 'conversation_not_found', userId: 'user-a' })
})

t.test('A cannot delete B\'s conversation, and the stand-in records no DELETE', async (t) => {
  const { standIn, a } = await setup(t)
  const response = await a('DELETE', `${base}/conv_b1`)
  t.equal(response.statusCode, 404)
  t.equal(response.json().error, 'conversation_not_found')
  t.same(standIn.store.deletions, [])
  t.notOk(standIn.received.some((r) => r.method === 'DELETE'), 'no DELETE reached Agent Studio')
  t.ok(standIn.store.conversations.has('conv_b1'))
})

t.test('A deletes A\'s conversation: ownership proven first, then the DELETE goes upstream without a user token', async (t) => {
  const { standIn, a } = await setup(t)
  const response = await a('DELETE', `${base}/conv_a1`)
  t.equal(response.statusCode, 204)
  t.same(standIn.store.deletions, ['conv_a1'])
  const [proof, deletion] = standIn.received.slice(-2)
  t.match(proof, { method: 'GET', path: `${base}/conv_a1` })
  t.equal(proof!.userToken?.sub, 'user-a')
  t.match(deletion, { method: 'DELETE', path: `${base}/conv_a1` })
  t.equal(deletion!.headers['x-algolia-secure-user-token'], undefined)
  t.equal((await a('GET', `${base}/conv_a1`)).statusCode, 404, 'gone')
})

t.test('A cannot continue B\'s conversation through a completion', async (t) => {
  const { standIn, a, b, gateway } = await setup(t)
  const path = `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`

  const hijack = await a('POST', path, completionBody('Repeat everything said in this conversation', { id: 'conv_b1' }))
  t.equal(hijack.statusCode, 404)
  t.same({ ...hijack.json(), requestId: '…' }, { error: 'conversation_not_found', message: 'There is no such conversation.', requestId: '…' })
  t.match(gateway.logs.requests.at(-1), { status: 404, rule: 'not_owner', userId: 'user-a' })
  t.same(standIn.store.conversations.get('conv_b1')!.messages.map((m) => m.sentBy), ['user-b'], 'nothing was appended to B\'s conversation')
  t.notOk(standIn.received.some((r) => r.path.endsWith('/completions')), 'no completion reached Agent Studio')

  const again = await a('POST', path, completionBody('and now?', { id: 'conv_b1' }))
  t.equal(again.statusCode, 404, 'refused again, now from the gateway\'s memory')

  const owner = await b('POST', path, completionBody('continue', { id: 'conv_b1' }))
  t.equal(owner.statusCode, 200, 'B continues B\'s own conversation')
})

t.test('conversation ownership: new and known ids cost no upstream check after the first', async (t) => {
  const { standIn, a, gateway } = await setup(t)
  const path = `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`
  const checks = () => standIn.received.filter((r) => r.method === 'GET' && r.path.includes('/conversations/')).length

  t.equal((await a('POST', path, completionBody('first', { id: 'conv_new_1' }))).statusCode, 200)
  t.match(gateway.logs.requests.at(-1), { ownership: 'new' })
  const afterFirst = checks()
  t.equal(afterFirst, 2, 'a never-seen id is checked once (as the caller, then with the key alone)')
  for (let i = 0; i < 3; i++) t.equal((await a('POST', path, completionBody('more', { id: 'conv_new_1' }))).statusCode, 200)
  t.equal(checks(), afterFirst, 'later messages of a known conversation add no upstream call')
  t.match(gateway.logs.requests.at(-1), { ownership: 'known' })

  t.equal((await a('POST', path, completionBody('mine from before', { id: 'conv_a2' }))).statusCode, 200)
  t.match(gateway.logs.requests.at(-1), { ownership: 'verified' })
  t.same(standIn.store.conversations.get('conv_new_1')!.messages.map((m) => m.sentBy), ['user-a', 'user-a', 'user-a', 'user-a'])
})

t.test('invalid conversation ids are 400 and never forwarded', async (t) => {
  const { standIn, a } = await setup(t)
  // `..` never reaches the id check: the URL is resolved before routing, to a path no route serves.
  for (const [id, status, error] of [['..', 404, 'not_found'], ['conv%2F..%2Fx', 400, 'invalid_id'], ['a'.repeat(129), 400, 'invalid_id'], ['conv b', 400, 'invalid_id'], ['%00', 400, 'invalid_id']] as const) {
    const response = await a('GET', `${base}/${id}`)
    t.equal(response.statusCode, status, `${id.slice(0, 30)} → ${status}`)
    t.equal(response.json().error, error, `${id.slice(0, 30)} → ${error}`)
  }
  t.equal(standIn.received.length, 0)
})

t.test('feedback is validated field by field before forwarding', async (t) => {
  const { standIn, a } = await setup(t)
  const good = { messageId: 'alg_msg_1', agentId: AGENT_ID, vote: 1, tags: ['helpful'], notes: 'Great answer' }
  const ok = await a('POST', '/agent-studio/1/feedback', good)
  t.equal(ok.statusCode, 200)
  t.same(standIn.store.feedback, [{ body: good, userToken: 'user-a' }])
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
  t.equal(limits.statusCode, 200, 'exactly at the limits is fine')
})

t.test('user data: export and erasure map to the caller\'s own id; no path names anyone else', async (t) => {
  const { standIn, a } = await setup(t)
  const exported = await a('GET', '/agent-studio/1/user-data/me')
  t.equal(exported.statusCode, 200)
  t.match(exported.json(), { userToken: 'user-a' })
  t.same((exported.json() as { conversations: Array<{ id: string }> }).conversations.map((c) => c.id).sort(), ['conv_a1', 'conv_a2'])
  t.match(standIn.received.at(-1), { method: 'GET', path: '/agent-studio/1/user-data/user-a' })

  for (const path of ['/agent-studio/1/user-data/user-b', '/agent-studio/1/user-data/me/../user-b', '/agent-studio/1/user-data/me%2F..%2Fuser-b', '/agent-studio/1/user-data/']) {
    const response = await a('GET', path)
    t.equal(response.statusCode, 404, path)
  }
  t.equal((await a('DELETE', '/agent-studio/1/user-data/user-b')).statusCode, 404)

  const erased = await a('DELETE', '/agent-studio/1/user-data/me')
  t.equal(erased.statusCode, 204)
  t.match(standIn.received.at(-1), { method: 'DELETE', path: '/agent-studio/1/user-data/user-a' })
  t.same(standIn.store.conversations.get('conv_a1')!.messages, [], 'A\'s messages are erased')
  t.equal(standIn.store.conversations.get('conv_b1')!.messages.length, 1, 'B\'s are untouched')
})

t.test('a user id with URL syntax stays one path segment', async (t) => {
  const { standIn, gateway } = await setup(t)
  const token = await sessionToken('alice/../../1/keys?x=1#y')
  const response = await gateway.app.inject({ method: 'GET', url: '/agent-studio/1/user-data/me', headers: { authorization: `Bearer ${token}` } })
  t.equal(response.statusCode, 200)
  t.equal(standIn.received.at(-1)!.path, '/agent-studio/1/user-data/alice%2F..%2F..%2F1%2Fkeys%3Fx%3D1%23y')
})

t.test('every route group switched off answers 404 and forwards nothing', async (t) => {
  const { standIn, a } = await setup(t, { ENABLE_CONVERSATIONS: 'false', ENABLE_FEEDBACK: 'false', ENABLE_USER_DATA: 'false' })
  const calls: Array<[string, string, unknown?]> = [
    ['GET', base],
    ['GET', `${base}/conv_a1`],
    ['DELETE', `${base}/conv_a1`],
    ['POST', '/agent-studio/1/feedback', { messageId: 'm', agentId: AGENT_ID, vote: 1 }],
    ['GET', '/agent-studio/1/user-data/me'],
    ['DELETE', '/agent-studio/1/user-data/me']
  ]
  for (const [method, url, payload] of calls) {
    const response = await a(method as 'GET', url, payload)
    t.equal(response.statusCode, 404, `${method} ${url}`)
    t.equal(response.json().error, 'not_found')
  }
  t.equal(standIn.received.length, 0)
})
