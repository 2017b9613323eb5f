import t from 'tap'
import { decodeProtectedHeader, decodeJwt } from 'jose'
import { request } from 'undici'
import { AGENT_ID, APP_ORIGIN, TEST_KEYS, completionBody, sessionToken } from '../../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../../helpers/gateway.js'

const expectations = {
  'ai-sdk-5': { contentType: 'text/event-stream', header: 'x-vercel-ai-ui-message-stream', first: 'data: {"type":"start"', last: 'data: [DONE]\n\n' },
  'ai-sdk-4': { contentType: 'text/plain; charset=utf-8', header: 'x-vercel-ai-data-stream', first: 'f:{"messageId"', last: '"finishReason":"stop"' }
} as const
// ag-ui (off by default, its own body) is covered by test/routes/agent-studio/ag-ui.test.ts with AG-UI's HttpAgent.

for (const [mode, expected] of Object.entries(expectations)) {
  t.test(`a signed-in user's ${mode} completion streams back with the stand-in accepting the minted token`, async (t) => {
    const { standIn, url: upstream } = await startStandIn(t)
    const gateway = await startGateway(t, upstream)
    const client = testClient(t)
    const token = await sessionToken('user-42')

    const response = await request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=${mode}`, {
      method: 'POST',
      dispatcher: client,
      headers: { 'content-type': 'application/json', cookie: `session=${token}`, origin: APP_ORIGIN },
      body: JSON.stringify(completionBody('What is the return policy?'))
    })
    const text = await response.body.text()

    t.equal(response.statusCode, 200)
    t.equal(response.headers['content-type'], expected.contentType)
    t.equal(response.headers[expected.header], 'v1', `${expected.header} preserved`)
    t.equal(response.headers['cache-control'], 'no-cache, no-transform')
    t.equal(response.headers['x-accel-buffering'], 'no')
    t.match(response.headers['x-request-id'], /^[0-9a-f-]{36}$/)
    t.equal(response.headers['access-control-allow-origin'], APP_ORIGIN)
    t.ok(text.startsWith(expected.first), 'the stream starts with the protocol opening event')
    t.ok(text.includes(expected.last), 'the stream reaches its final event')
    t.ok(text.includes('return'), 'the answer is about the question asked')

    t.equal(standIn.received.length, 1)
    const seen = standIn.received[0]!
    t.equal(seen.path, `/agent-studio/1/agents/${AGENT_ID}/completions`)
    t.same(
      seen.query,
      { compatibilityMode: mode, cache: 'false', analytics: 'true' },
      'an agent not declared cache: shared never uses the shared cache (issue 23)'
    )
    t.equal(seen.headers['x-algolia-application-id'], TEST_KEYS.appId)
    t.equal(seen.headers['x-algolia-api-key'], TEST_KEYS.apiKey)
    t.same(seen.userToken && { sub: seen.userToken.sub, kid: seen.userToken.kid }, { sub: 'user-42', kid: TEST_KEYS.keyId })
    const userToken = String(seen.headers['x-algolia-secure-user-token'])
    t.same(decodeProtectedHeader(userToken), { alg: 'HS256', typ: 'JWT', kid: TEST_KEYS.keyId })
    const claims = decodeJwt(userToken)
    t.same(Object.keys(claims).sort(), ['exp', 'iat', 'sub'], 'the token carries sub, iat and exp only')
    t.equal(claims.exp! - claims.iat!, 3600, 'USER_TOKEN_TTL defaults to an hour')
    t.same(seen.body, completionBody('What is the return policy?'))
  })
}

t.test('a bearer session works like a cookie and stream=false returns the JSON answer', async (t) => {
  const { standIn, url: upstream } = await startStandIn(t)
  const gateway = await startGateway(t, upstream)
  const response = await request(
    `${gateway.url}/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false&memory=false&debug=1&cache=false`,
    {
      method: 'POST',
      dispatcher: testClient(t),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await sessionToken('bearer-user')}` },
      body: JSON.stringify(completionBody('hi'))
    }
  )
  const answer = (await response.body.json()) as { role: string; parts: Array<{ type: string; text?: string }> }
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^application\/json/)
  t.equal(response.headers['cache-control'], 'private, no-store', 'a JSON answer is private and never stored, not streamed')
  t.equal(response.headers['x-accel-buffering'], undefined, 'no streaming headers on a JSON answer')
  t.equal(answer.role, 'assistant')
  t.match(answer.parts, [{ type: 'step-start' }, { type: 'text', text: /hi/ }], "Agent Studio's stream=false shape")
  t.same(
    standIn.received[0]!.query,
    { compatibilityMode: 'ai-sdk-5', stream: 'false', memory: 'false', cache: 'false', analytics: 'true' },
    'debug dropped; the browser may bypass the cache'
  )
  t.equal(standIn.received[0]!.userToken?.sub, 'bearer-user')
})

t.test('steady traffic from one user signs one token', async (t) => {
  const { standIn, url: upstream } = await startStandIn(t)
  const gateway = await startGateway(t, upstream)
  const client = testClient(t)
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${await sessionToken('steady')}` }
  for (let i = 0; i < 3; i++) {
    const response = await request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`, {
      method: 'POST',
      dispatcher: client,
      headers,
      body: JSON.stringify(completionBody())
    })
    await response.body.dump()
    t.equal(response.statusCode, 200)
  }
  const tokens = new Set(standIn.received.map((r) => r.headers['x-algolia-secure-user-token']))
  t.equal(tokens.size, 1, 'the same cached token served all three requests')
})
