import t from 'tap'
import { AGENT_ID, completionBody, sessionToken } from '../../helpers/fixtures.js'
import { conversationSetup as setup, upstreamId } from '../../helpers/conversations.js'

const base = `/agent-studio/1/agents/${AGENT_ID}/conversations`
const completions = (agent = AGENT_ID) => `/agent-studio/1/agents/${agent}/completions?compatibilityMode=ai-sdk-5&stream=false`
const notFoundBody = { error: 'conversation_not_found', message: 'There is no such conversation.', requestId: '…' }
const strip = (body: Record<string, unknown>) => ({ ...body, requestId: '…' })

t.test("A lists only A's namespaced conversations, under the ids A chose; the rest is left out and counted", async (t) => {
  const { standIn, gateway, a } = await setup(t)
  const response = await a('GET', `${base}?page=1&limit=10&startDate=2026-01-01&endDate=2099-12-31&userToken=user-b&agentId=x`)
  t.equal(response.statusCode, 200)
  const body = response.json() as { data: Array<{ id: string; title: string }>; pagination: { totalCount: number } }
  t.same(body.data.map((c) => c.id).sort(), ['conv_a1', 'conv_a2'], 'client ids; the raw legacy id is not shown')
  t.same(body.data.map((c) => c.title).sort(), ['A private question', 'A second question'])
  t.equal(body.pagination.totalCount, 3, "pagination is upstream's (docs/security.md says so)")
  t.match(gateway.logs.requests.at(-1), { status: 200, conversationsHidden: 1 })
  const seen = standIn.received.at(-1)!
  t.same(seen.query, { page: '1', limit: '10', startDate: '2026-01-01', endDate: '2099-12-31' }, 'nothing else is passed')
  t.equal(seen.userToken?.sub, 'user-a')
  t.equal(response.headers['content-length'], String(Buffer.byteLength(response.body)), 'the length is of the rewritten body')

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

t.test("A reads A's conversation under A's id; B's id answers 404 byte for byte like a missing one", async (t) => {
  const { a, standIn, gateway } = await setup(t)
  const own = await a('GET', `${base}/conv_a1`)
  t.equal(own.statusCode, 200)
  t.match(own.json(), { id: 'conv_a1', title: 'A private question', messages: [{ conversationId: 'conv_a1', parts: [{ text: 'A private question' }] }] })
  t.equal(standIn.received.at(-1)!.path, `${base}/${upstreamId('user-a', 'conv_a1')}`, "upstream, the id is in A's namespace")
  t.notMatch(own.body, new RegExp(upstreamId('user-a', '')), 'the namespace prefix never reaches the browser')

  const others = await a('GET', `${base}/conv_b1`)
  const missing = await a('GET', `${base}/conv_zz`)
  t.equal(others.statusCode, 404)
  t.equal(missing.statusCode, 404)
  t.same(strip(others.json()), strip(missing.json()), 'no oracle: same body')
  t.same(strip(others.json()), notFoundBody)
  t.same(
    others.body.replace(others.headers['x-request-id'] as string, ''),
    missing.body.replace(missing.headers['x-request-id'] as string, ''),
    'byte for byte, but for the request id'
  )
  t.same(Object.keys(others.headers).sort(), Object.keys(missing.headers).sort(), 'and the same headers')
  t.notMatch(others.body, /medical/)
  t.match(gateway.logs.requests.at(-2), { status: 404, rule: 'conversation_not_found', userId: 'user-a' })
})

t.test("A reaches B's conversation by no route, agent, encoding or case trick", async (t) => {
  const { standIn, a } = await setup(t, { ALLOWED_AGENT_IDS: `${AGENT_ID},agent-2` })
  const bUpstream = upstreamId('user-b', 'conv_b1')
  const tricks = ['conv_b1', 'CONV_B1', 'Conv_b1', bUpstream, bUpstream.toUpperCase(), `${bUpstream.slice(0, 33)}conv_b1`]
  for (const id of tricks) {
    for (const agent of [AGENT_ID, 'agent-2']) {
      const read = await a('GET', `/agent-studio/1/agents/${agent}/conversations/${id}`)
      t.equal(read.statusCode, 404, `GET ${agent}/${id}`)
      t.same(strip(read.json()), notFoundBody)
      const deletion = await a('DELETE', `/agent-studio/1/agents/${agent}/conversations/${id}`)
      t.equal(deletion.statusCode, 404, `DELETE ${agent}/${id}`)
    }
  }
  const encodings: Array<[string, number]> = [
    ['conv%5Fb1', 404],
    ['%63onv_b1', 404],
    ['conv_b1%00', 400],
    ['conv_b1%2F..%2F', 400],
    [`${bUpstream}%20`, 400]
  ]
  for (const [encoded, status] of encodings) {
    const read = await a('GET', `${base}/${encoded}`)
    t.equal(read.statusCode, status, `GET ${encoded}`)
    t.equal(read.json().error, status === 404 ? 'conversation_not_found' : 'invalid_id')
  }
  for (const id of tricks) {
    for (const agent of [AGENT_ID, 'agent-2']) {
      const chat = await a('POST', completions(agent), completionBody('Repeat this conversation', { id }))
      t.equal(chat.statusCode, 200, `a completion with ${id} on ${agent} is simply A's own conversation`)
    }
  }
  const b1 = standIn.store.conversations.get(bUpstream)!
  t.same(
    b1.messages.map((m) => m.sentBy),
    ['user-b'],
    "nothing was appended to B's conversation"
  )
  t.notOk(standIn.store.deletions.includes(bUpstream), 'and it was not deleted')
  for (const request of standIn.received) {
    const named = request.path.endsWith('/completions') ? (request.body as { id?: string }).id : request.path.split('/').at(-1)
    if (named !== undefined && named !== 'conversations')
      t.ok(named.startsWith(upstreamId('user-a', '')), `${request.method} ${request.path}: in A's namespace`)
  }
})

t.test('chat with ids has no ownership lookup: one upstream call per message, whatever the id', async (t) => {
  const { standIn, a, gateway } = await setup(t)
  for (const id of ['new_one', 'conv_a1', 'conv_b1']) {
    const before = standIn.received.length
    t.equal((await a('POST', completions(), completionBody('hi', { id }))).statusCode, 200)
    t.equal(standIn.received.length - before, 1, `${id}: the completion is the only upstream call`)
  }
  t.notOk(
    gateway.logs.requests.some((line) => 'ownership' in line),
    'no ownership field in the log'
  )
})

t.test('the ids real clients make round-trip: AI SDK, InstantSearch, UUID and alg_cnv_ ids', async (t) => {
  const { a } = await setup(t)
  const ids = ['V1StGXR8Z5jdHi6B', 'k3j9x0q', '0b7f2c1e-9d6a-4c3b-8e2f-1a2b3c4d5e6f', 'alg_cnv_0b7f2c1e9d6a4c3b8e2f1a2b3c4d5e6f', 'a', 'x'.repeat(95)]
  for (const id of ids) {
    t.equal((await a('POST', completions(), completionBody(`question for ${id.slice(0, 10)}`, { id }))).statusCode, 200, id.slice(0, 20))
    const read = await a('GET', `${base}/${id}`)
    t.equal(read.statusCode, 200, `read ${id.slice(0, 20)}`)
    t.equal(read.json().id, id)
  }
  const listed = (await a('GET', `${base}?limit=100`)).json() as { data: Array<{ id: string }> }
  t.same(
    listed.data
      .map((c) => c.id)
      .filter((id) => ids.includes(id))
      .sort(),
    [...ids].sort()
  )
})

t.test("client ids over the namespace's limit or malformed are 400 invalid_id naming the maximum", async (t) => {
  const { standIn, a } = await setup(t)
  const message = 'The conversation id is not valid: ids are 1 to 95 letters, digits, "-" or "_", starting with a letter or digit.'
  for (const id of ['x'.repeat(96), '-leading', 'conv b', 'conv.1', '', 'ü']) {
    const chat = await a('POST', completions(), completionBody('hi', { id }))
    t.equal(chat.statusCode, 400, `completion id ${JSON.stringify(id.slice(0, 20))}`)
    t.same(strip(chat.json()), { error: 'invalid_id', message, requestId: '…' })
  }
  for (const id of ['x'.repeat(96), 'conv%2F..%2Fx', 'conv%20b', '%00', '.x']) {
    const read = await a('GET', `${base}/${id}`)
    t.equal(read.statusCode, 400, `read ${id.slice(0, 20)}`)
    t.same(strip(read.json()), { error: 'invalid_id', message, requestId: '…' })
  }
  t.equal(standIn.received.length, 0, 'nothing was forwarded')
})

t.test("A deletes A's conversation with one upstream DELETE (no user token, no ownership read); a missing one is 404", async (t) => {
  const { standIn, a } = await setup(t)
  const response = await a('DELETE', `${base}/conv_a1`)
  t.equal(response.statusCode, 204)
  t.equal(standIn.received.length, 1, 'one round trip')
  const [deletion] = standIn.received
  t.match(deletion, { method: 'DELETE', path: `${base}/${upstreamId('user-a', 'conv_a1')}` })
  t.equal(deletion!.headers['x-algolia-secure-user-token'], undefined)
  t.same(standIn.store.deletions, [upstreamId('user-a', 'conv_a1')])
  const again = await a('DELETE', `${base}/conv_a1`)
  t.equal(again.statusCode, 404)
  t.same(strip(again.json()), notFoundBody)
})

t.test("erasure deletes every conversation of the caller on every allowed agent and the messages, and touches no one else's", async (t) => {
  const { standIn, gateway, a, b } = await setup(t, { ALLOWED_AGENT_IDS: `${AGENT_ID},agent-2` })
  t.equal((await a('POST', completions('agent-2'), completionBody('on the other agent', { id: 'other1' }))).statusCode, 200)
  t.equal((await b('POST', completions('agent-2'), completionBody('B on the other agent', { id: 'other1' }))).statusCode, 200)
  const bIds = [...standIn.store.conversations.values()]
    .filter((c) => c.owner === 'user-b')
    .map((c) => c.id)
    .sort()
  const bMessages = [...standIn.store.conversations.values()].filter((c) => c.owner === 'user-b').map((c) => c.messages.length)

  const erased = await a('DELETE', '/agent-studio/1/user-data/me')
  t.equal(erased.statusCode, 200)
  t.same(erased.json(), { conversationsDeleted: 4, messagesDeleted: true, memoriesDeleted: false })
  t.equal(erased.headers['cache-control'], 'private, no-store')
  t.same(
    [...standIn.store.conversations.values()].filter((c) => c.owner === 'user-a'),
    [],
    "nothing of A's is left, legacy conversation included"
  )
  t.same(
    [...standIn.store.conversations.values()]
      .filter((c) => c.owner === 'user-b')
      .map((c) => c.id)
      .sort(),
    bIds,
    "B's conversations are all there"
  )
  t.same(
    [...standIn.store.conversations.values()].filter((c) => c.owner === 'user-b').map((c) => c.messages.length),
    bMessages,
    'with all their messages'
  )
  t.match(standIn.received.at(-1), { method: 'DELETE', path: '/agent-studio/1/user-data/user-a' })
  t.match(gateway.logs.requests.at(-1), { status: 200, conversationsDeleted: 4, userId: 'user-a' })

  const calls = standIn.received.length
  const again = await a('DELETE', '/agent-studio/1/user-data/me')
  t.equal(again.statusCode, 200, 'safe to repeat')
  t.same(again.json(), { conversationsDeleted: 4, messagesDeleted: true, memoriesDeleted: false }, 'within a budget window, the finished erasure is the answer')
  t.equal(standIn.received.length, calls, 'and nothing is asked of Agent Studio again')
})

t.test('a partly failed erasure answers 502 with what was done, and a retry finishes the job', async (t) => {
  let failDeletes = true
  const { standIn, gateway, a } = await setup(
    t,
    {},
    {
      intercept: ({ method, url }) =>
        failDeletes && method === 'DELETE' && url.includes('legacy_a') ? { status: 500, body: { message: 'Internal server error', status: 500 } } : undefined
    }
  )
  const partial = await a('DELETE', '/agent-studio/1/user-data/me')
  t.equal(partial.statusCode, 502)
  t.same(strip(partial.json()), {
    error: 'erasure_incomplete',
    message: 'Your data was only partly erased (2 conversations deleted, messages deleted); send the same request again to finish.',
    requestId: '…',
    conversationsDeleted: 2,
    messagesDeleted: true,
    memoriesDeleted: false
  })
  t.match(gateway.logs.requests.at(-1), { status: 502, rule: 'erasure_incomplete', conversationsDeleted: 2 })
  t.ok(standIn.store.conversations.has('legacy_a'))

  failDeletes = false
  const retry = await a('DELETE', '/agent-studio/1/user-data/me')
  t.equal(retry.statusCode, 200)
  t.same(retry.json(), { conversationsDeleted: 1, messagesDeleted: true, memoriesDeleted: false })
  t.notOk(standIn.store.conversations.has('legacy_a'))
})

t.test("export maps ids back and leaves out what is outside the caller's namespace; no path names anyone else", async (t) => {
  const { standIn, gateway, a } = await setup(t)
  const exported = await a('GET', '/agent-studio/1/user-data/me')
  t.equal(exported.statusCode, 200)
  const body = exported.json() as { conversations: Array<{ id: string; messages: Array<{ conversationId: string }> }>; memories: unknown[] }
  t.same(body.conversations.map((c) => c.id).sort(), ['conv_a1', 'conv_a2'])
  t.same(body.conversations.flatMap((c) => c.messages.map((m) => m.conversationId)).sort(), ['conv_a1', 'conv_a2'])
  t.same(body.memories, [])
  t.match(standIn.received.at(-1), { method: 'GET', path: '/agent-studio/1/user-data/user-a' })
  t.match(gateway.logs.requests.at(-1), { conversationsHidden: 1 })

  for (const path of [
    '/agent-studio/1/user-data/user-b',
    '/agent-studio/1/user-data/me/../user-b',
    '/agent-studio/1/user-data/me%2F..%2Fuser-b',
    '/agent-studio/1/user-data/'
  ]) {
    const response = await a('GET', path)
    t.equal(response.statusCode, 404, path)
  }
  t.equal((await a('DELETE', '/agent-studio/1/user-data/user-b')).statusCode, 404)
})

t.test('a tenant claim separates equal user ids everywhere: token sub, namespace, user data, logs', async (t) => {
  const { standIn, gateway, as } = await setup(t, { SESSION_TENANT_CLAIM: 'tenant' })
  const acme = as('42', { tenant: 'acme' })
  const globex = as('42', { tenant: 'globex' })
  t.equal((await acme('POST', completions(), completionBody('acme question', { id: 'same1' }))).statusCode, 200)
  t.equal((await globex('POST', completions(), completionBody('globex question', { id: 'same1' }))).statusCode, 200)
  const [first, second] = standIn.received.filter((r) => r.path.endsWith('/completions'))
  t.equal(first!.userToken?.sub, 'acme:42')
  t.equal(second!.userToken?.sub, 'globex:42')
  t.equal((first!.body as { id: string }).id, upstreamId('acme:42', 'same1'))
  t.equal((second!.body as { id: string }).id, upstreamId('globex:42', 'same1'))
  t.notMatch((await globex('GET', `${base}/same1`)).body, /acme question/)
  t.match(standIn.received.at(-1), { path: `${base}/${upstreamId('globex:42', 'same1')}` })
  await acme('GET', '/agent-studio/1/user-data/me')
  t.match(standIn.received.at(-1), { path: '/agent-studio/1/user-data/acme%3A42' })
  t.match(gateway.logs.requests.at(-1), { userId: 'acme:42' })

  for (const [name, claims] of [
    ['no tenant', {}],
    ['a tenant with ":"', { tenant: 'a:b' }],
    ['an empty tenant', { tenant: '' }],
    ['an object', { tenant: { id: 1 } }]
  ] as const) {
    const before = standIn.received.length
    const refused = await as('42', claims)('POST', completions(), completionBody('hi'))
    t.equal(refused.statusCode, 401, name)
    t.same(strip(refused.json()), { error: 'session_invalid', message: 'Your session is invalid or has expired; sign in again.', requestId: '…' }, name)
    t.match(gateway.logs.requests.at(-1), { status: 401, reason: /tenant claim "tenant"/ }, `${name}: the log says why`)
    t.equal(standIn.received.length, before, `${name}: nothing forwarded`)
  }
  const tooLong = await as('u'.repeat(250), { tenant: 'acme-corporation' })('GET', base)
  t.equal(tooLong.statusCode, 401, 'a tenant and user id over 256 characters together')
  t.match(gateway.logs.requests.at(-1), { reason: /longer than 256 characters/ })
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
