import { createHmac } from 'node:crypto'
import t from 'tap'
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { Credentials } from '../../src/credentials/credentials.js'
import type { Caller, SecretSet } from '../../src/credentials/credentials.js'
import { AGENT_ID, TEST_KEYS, completionBody, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'

const frozenAt = Date.UTC(2026, 10, 22, 12, 0, 0)
const signingKey = { keyId: 'kid-a', secret: 'sk-alg-a' }
const initial: SecretSet = { apiKey: 'old-api', searchKey: 'old-search', signingKey }
const searchKey = { enabled: true, ttlSeconds: 3600, indices: ['products'], filters: '', agentTenantIsolation: false }

function credentials(options: { agentTenantIsolation?: boolean; secrets?: SecretSet } = {}) {
  return new Credentials({
    appId: 'APP',
    secrets: options.secrets ?? initial,
    userTokenTtlSeconds: 600,
    searchKey: { ...searchKey, agentTenantIsolation: options.agentTenantIsolation ?? false },
    now: () => frozenAt
  })
}

/** What a browser sends: a few harmless headers, and everything that must never leave. */
const browser = {
  accept: 'text/event-stream',
  'accept-language': 'fr',
  'user-agent': 'test-browser',
  cookie: 'session=abc',
  authorization: 'Bearer session',
  'x-algolia-api-key': 'browser-key',
  'x-algolia-secure-user-token': 'forged'
}
const caller = (id: string, claims: Record<string, unknown> = {}): Caller => ({ headers: browser, user: { id, via: 'bearer', claims } })

async function verifiedToken(token: string, secret: string) {
  const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'], currentDate: new Date(frozenAt) })
  return { header: protectedHeader, payload }
}

function securedKeyParentIs(key: string, parent: string): boolean {
  const decoded = Buffer.from(key, 'base64').toString('utf8')
  return createHmac('sha256', parent).update(decoded.slice(64)).digest('hex') === decoded.slice(0, 64)
}

t.test("a user with the user token: the browser's harmless headers, then the app id, the API key and a token minted for that user", async (t) => {
  const headers = await credentials().headersFor(caller('user-1'), { userToken: true, jsonBody: true })
  const token = headers['x-algolia-secure-user-token']!
  t.same(headers, {
    accept: 'text/event-stream',
    'accept-language': 'fr',
    'user-agent': 'test-browser',
    'content-type': 'application/json',
    'x-algolia-application-id': 'APP',
    'x-algolia-api-key': 'old-api',
    'x-algolia-secure-user-token': token
  })
  const { header, payload } = await verifiedToken(token, signingKey.secret)
  t.same(header, { alg: 'HS256', typ: 'JWT', kid: 'kid-a' })
  t.same(payload, { sub: 'user-1', iat: frozenAt / 1000, exp: frozenAt / 1000 + 600 })
})

t.test('without the user token (conversation DELETE) and without a body, neither a token nor a content-type leaves', async (t) => {
  const headers = await credentials().headersFor(caller('user-1'), { userToken: false, jsonBody: false })
  t.same(headers, {
    accept: 'text/event-stream',
    'accept-language': 'fr',
    'user-agent': 'test-browser',
    'x-algolia-application-id': 'APP',
    'x-algolia-api-key': 'old-api'
  })
})

t.test('the token is minted once per user and kept', async (t) => {
  const subject = credentials()
  const first = (await subject.headersFor(caller('a'), { userToken: true, jsonBody: false }))['x-algolia-secure-user-token']
  const other = (await subject.headersFor(caller('b'), { userToken: true, jsonBody: false }))['x-algolia-secure-user-token']
  t.equal((await subject.headersFor(caller('a'), { userToken: true, jsonBody: true }))['x-algolia-secure-user-token'], first)
  t.not(other, first)
  t.equal(decodeJwt(other!).sub, 'b')
})

t.test('after a rotate, the next headers carry the new API key and a token signed with the new key; names, not values, are reported', async (t) => {
  const subject = credentials()
  const before = await subject.headersFor(caller('u'), { userToken: true, jsonBody: true })

  t.same(
    subject.rotate({ apiKey: 'old-api', searchKey: 'old-search', signingKey: { ...signingKey } }),
    { changed: [], userTokenKeyId: 'kid-a' },
    'nothing changed'
  )
  t.equal(
    (await subject.headersFor(caller('u'), { userToken: true, jsonBody: true }))['x-algolia-secure-user-token'],
    before['x-algolia-secure-user-token'],
    'the cached token is kept'
  )

  t.same(subject.rotate({ apiKey: 'new-api', searchKey: 'new-search', signingKey }), {
    changed: ['ALGOLIA_API_KEY', 'ALGOLIA_SEARCH_KEY'],
    userTokenKeyId: 'kid-a'
  })
  const afterApiKey = await subject.headersFor(caller('u'), { userToken: true, jsonBody: true })
  t.equal(afterApiKey['x-algolia-api-key'], 'new-api')
  t.equal(afterApiKey['x-algolia-secure-user-token'], before['x-algolia-secure-user-token'], 'the signing key was not touched')
  t.ok(securedKeyParentIs(subject.searchKeyFor(caller('u').user).apiKey, 'new-search'), 'browser search keys derive from the new search key')

  const next = { keyId: 'kid-b', secret: 'sk-alg-b' }
  t.same(subject.rotate({ apiKey: 'new-api', searchKey: 'new-search', signingKey: next }), {
    changed: ['ALGOLIA_KEY_ID/ALGOLIA_SECRET_KEY'],
    userTokenKeyId: 'kid-b'
  })
  t.equal(subject.userTokenKeyId, 'kid-b')
  const after = await subject.headersFor(caller('u'), { userToken: true, jsonBody: true })
  t.not(after['x-algolia-secure-user-token'], before['x-algolia-secure-user-token'], 'the token signed with the old key is forgotten')
  t.same((await verifiedToken(after['x-algolia-secure-user-token']!, next.secret)).header, { alg: 'HS256', typ: 'JWT', kid: 'kid-b' })
  t.equal(decodeProtectedHeader(before['x-algolia-secure-user-token']!).kid, 'kid-a')
})

t.test("tenant isolation: the agent's call gets the user's key derived from the API key, cached per user, dropped on rotation", async (t) => {
  const subject = credentials({ agentTenantIsolation: true })
  const agentCall = { userToken: true, jsonBody: true, agentKey: true } as const
  const first = (await subject.headersFor(caller('u'), agentCall))['x-algolia-api-key']!
  t.not(first, 'old-api')
  t.ok(securedKeyParentIs(first, 'old-api'), 'derived from ALGOLIA_API_KEY')
  t.equal((await subject.headersFor(caller('u'), agentCall))['x-algolia-api-key'], first, 'cached per user')
  t.not((await subject.headersFor(caller('v'), agentCall))['x-algolia-api-key'], first, 'another user, another key')
  t.equal(
    (await subject.headersFor(caller('u'), { userToken: true, jsonBody: true }))['x-algolia-api-key'],
    'old-api',
    'calls that do not run the agent keep the API key'
  )

  subject.rotate({ ...initial, apiKey: 'new-api' })
  const rotated = (await subject.headersFor(caller('u'), agentCall))['x-algolia-api-key']!
  t.ok(securedKeyParentIs(rotated, 'new-api'), 'after a rotation, derived from the new API key')
  t.notOk(securedKeyParentIs(rotated, 'old-api'))
})

t.test('tenant isolation with a filters template: a session with other claims gets a key with its own filters', async (t) => {
  // The agent key is cached per user; a user moved to another tenant must not keep searching
  // with the old tenant's filters until the cached key runs out.
  const subject = new Credentials({
    appId: 'APP',
    secrets: initial,
    userTokenTtlSeconds: 600,
    searchKey: { ...searchKey, filters: 'tenant_id:{tenant}', agentTenantIsolation: true },
    now: () => frozenAt
  })
  const agentCall = { userToken: true, jsonBody: true, agentKey: true } as const
  const filtersOf = (key: string) => new URLSearchParams(Buffer.from(key, 'base64').toString('utf8').slice(64)).get('filters')
  const acme = (await subject.headersFor(caller('u', { tenant: 'acme' }), agentCall))['x-algolia-api-key']!
  t.equal(filtersOf(acme), 'tenant_id:"acme"')
  const globex = (await subject.headersFor(caller('u', { tenant: 'globex' }), agentCall))['x-algolia-api-key']!
  t.equal(filtersOf(globex), 'tenant_id:"globex"', 'the new claims, not the cached key')
  t.ok(securedKeyParentIs(globex, 'old-api'))
})

t.test("without tenant isolation, the agent's call sends the API key itself", async (t) => {
  t.equal((await credentials().headersFor(caller('u'), { userToken: true, jsonBody: true, agentKey: true }))['x-algolia-api-key'], 'old-api')
})

t.test('every route sends exactly what the one credentials object says, rotation included', async (t) => {
  const rotated: SecretSet = {
    apiKey: 'rotated-agent-api-key',
    searchKey: 'rotated-search-only-key',
    signingKey: { keyId: 'rotated-kid', secret: 'sk-alg-rotated-secret' }
  }
  // Agent Studio takes both sets, so a route that sent the configured (old) ones would get answers, and only this test's assertions would catch it.
  const { standIn, url } = await startStandIn(t, {
    agents: [AGENT_ID],
    apiKeys: new Map([
      [TEST_KEYS.apiKey, ['search', 'logs']],
      [rotated.apiKey, ['search', 'logs']]
    ]),
    authenticationKeys: new Map([
      [TEST_KEYS.keyId, TEST_KEYS.secretKey],
      [rotated.signingKey.keyId, rotated.signingKey.secret]
    ])
  })
  const shared = new Credentials({
    appId: TEST_KEYS.appId,
    secrets: { apiKey: TEST_KEYS.apiKey, searchKey: TEST_KEYS.searchKey, signingKey: { keyId: TEST_KEYS.keyId, secret: TEST_KEYS.secretKey } },
    userTokenTtlSeconds: 3600,
    searchKey
  })
  const gateway = await startGateway(t, url, { listen: false, deps: { credentials: shared } })
  t.same(shared.rotate(rotated).changed, ['ALGOLIA_API_KEY', 'ALGOLIA_SEARCH_KEY', 'ALGOLIA_KEY_ID/ALGOLIA_SECRET_KEY'])

  const session = `Bearer ${await sessionToken('rotated-user')}`
  const client = { accept: 'application/json', 'accept-language': 'de', 'user-agent': 'credentials-test' }
  const send = async (method: 'GET' | 'POST' | 'DELETE', path: string, payload?: unknown) => {
    const response = await gateway.app.inject({
      method,
      url: path,
      headers: { ...client, authorization: session, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) })
    })
    t.ok(response.statusCode < 300, `${method} ${path}: ${response.statusCode}`)
    return response
  }
  const conversations = `/agent-studio/1/agents/${AGENT_ID}/conversations`
  await send('POST', `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`, completionBody('hello', { id: 'conv-1' }))
  await send('POST', `/agent-studio/1/agents/${AGENT_ID}/tasks?stream=false`, { task: 'algolia_prompt_suggestions', input: { query: 'tents' } })
  await send('GET', conversations)
  await send('GET', `${conversations}/conv-1`)
  await send('POST', '/agent-studio/1/feedback', { messageId: 'alg_msg_1', agentId: AGENT_ID, vote: 1 })
  await send('GET', '/agent-studio/1/user-data/me')
  await send('DELETE', `${conversations}/conv-1`)
  await send('POST', `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`, completionBody('again', { id: 'conv-2' }))
  await send('DELETE', '/agent-studio/1/user-data/me')

  const user = { id: 'rotated-user', via: 'bearer', claims: {} } as const
  const withToken = await shared.headersFor({ headers: client, user }, { userToken: true, jsonBody: false })
  t.equal(withToken['x-algolia-api-key'], rotated.apiKey)
  t.equal(decodeProtectedHeader(withToken['x-algolia-secure-user-token']!).kid, rotated.signingKey.keyId)
  const calls = standIn.received.map((seen) => `${seen.method} ${seen.path.replace(/conversations\/[^/]+$/, 'conversations/{id}')}`)
  t.same(
    calls,
    [
      `POST /agent-studio/1/agents/${AGENT_ID}/completions`,
      `POST /agent-studio/1/agents/${AGENT_ID}/tasks`,
      `GET /agent-studio/1/agents/${AGENT_ID}/conversations`,
      `GET /agent-studio/1/agents/${AGENT_ID}/conversations/{id}`,
      'POST /agent-studio/1/feedback',
      'GET /agent-studio/1/user-data/rotated-user',
      `DELETE /agent-studio/1/agents/${AGENT_ID}/conversations/{id}`,
      `POST /agent-studio/1/agents/${AGENT_ID}/completions`,
      `GET /agent-studio/1/agents/${AGENT_ID}/conversations`,
      `DELETE /agent-studio/1/agents/${AGENT_ID}/conversations/{id}`,
      `GET /agent-studio/1/agents/${AGENT_ID}/conversations`,
      'DELETE /agent-studio/1/user-data/rotated-user'
    ],
    'every upstream route was called (the erasure lists until nothing is left)'
  )
  const erasureStarts = standIn.received.length - 4
  for (const [index, seen] of standIn.received.entries()) {
    // Conversation DELETEs (the route's and the erasure's) go without a user token; every other call carries one.
    const userToken = !(seen.method === 'DELETE' && seen.path.includes('/conversations/'))
    // The erasure runs apart from its request (issue 20): it carries none of the browser's headers.
    const browser = index >= erasureStarts ? {} : client
    const expected = await shared.headersFor({ headers: browser, user }, { userToken, jsonBody: seen.method === 'POST' })
    const sent = Object.fromEntries(
      Object.entries(seen.headers).filter(([name]) => name.startsWith('x-algolia-') || name === 'content-type' || name in expected)
    )
    t.same(sent, expected, `${seen.method} ${seen.path}: the object's headers, and no other credential`)
  }

  const issued = (await send('POST', '/search-key')).json() as { appId: string; apiKey: string }
  t.equal(issued.appId, TEST_KEYS.appId)
  t.ok(securedKeyParentIs(issued.apiKey, rotated.searchKey!), "the browser's search key derives from the rotated search key")
})
