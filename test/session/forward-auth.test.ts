import Fastify from 'fastify'
import t from 'tap'
import type { Test } from 'tap'
import { AGENT_ID, APP_ORIGIN, completionBody } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'

/** The web app's own session endpoint, as a real server the test controls. */
async function startSessionEndpoint(t: Test) {
  const calls: Array<{ cookie?: string; authorization?: string }> = []
  const server = Fastify()
  server.get('/api/session', async (request, reply) => {
    calls.push({ cookie: request.headers.cookie, authorization: request.headers.authorization })
    const credential = `${request.headers.cookie ?? ''} ${request.headers.authorization ?? ''}`
    if (credential.includes('good')) return { id: 'alice', email: 'alice@example.com', org: 'acme' }
    if (credential.includes('slow')) return new Promise(() => undefined)
    if (credential.includes('broken')) return reply.code(500).send('oops')
    if (credential.includes('noid')) return { email: 'x@example.com' }
    if (credential.includes('forbidden')) return reply.code(403).send({ error: 'forbidden' })
    return reply.code(401).send({ error: 'not signed in' })
  })
  const address = await server.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => server.close())
  return { calls, url: `${address}/api/session` }
}

async function setup(t: Test, env: Record<string, string> = {}) {
  const endpoint = await startSessionEndpoint(t)
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { SESSION_JWT_SECRET: undefined, SESSION_INTROSPECT_URL: endpoint.url, ...env }, listen: false })
  const send = (headers: Record<string, string>) =>
    gateway.app.inject({
      method: 'POST',
      url: `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`,
      headers: { 'content-type': 'application/json', origin: APP_ORIGIN, ...headers },
      payload: completionBody()
    })
  return { endpoint, standIn, gateway, send }
}

t.test('forward-auth "yes": the endpoint\'s id becomes the user, and the answer is cached', async (t) => {
  const { endpoint, standIn, send } = await setup(t)
  const first = await send({ cookie: 'session=good-1; theme=dark' })
  t.equal(first.statusCode, 200)
  t.equal(standIn.received[0]!.userToken?.sub, 'alice')
  t.same(endpoint.calls, [{ cookie: 'session=good-1', authorization: undefined }], 'the endpoint received the session cookie alone, as sent')
  t.equal(standIn.received[0]!.headers.cookie, undefined, 'the cookie went to the session endpoint, never to Agent Studio')

  const second = await send({ cookie: 'session=good-1; theme=dark' })
  t.equal(second.statusCode, 200)
  t.equal(endpoint.calls.length, 1, 'the second request was answered from the cache')

  const other = await send({ authorization: 'Bearer good-2' })
  t.equal(other.statusCode, 200)
  t.equal(endpoint.calls.length, 2, 'another credential is another cache entry')
  t.equal(endpoint.calls[1]!.authorization, 'Bearer good-2')
})

t.test('the cache is keyed by the whole credential: a positive answer for one token signs in no other', async (t) => {
  // Keyed by the cookie alone, every bearer token would share the entry of "no cookie", and the
  // first user's "yes" would let any later bearer token in as that user.
  const { endpoint, standIn, send } = await setup(t)
  t.equal((await send({ authorization: 'Bearer good-3' })).statusCode, 200)
  const forged = await send({ authorization: 'Bearer forged-3' })
  t.equal(forged.statusCode, 401, 'another bearer token is asked about, and refused')
  t.equal(forged.json().error, 'session_invalid')
  t.same(
    endpoint.calls.map((call) => call.authorization),
    ['Bearer good-3', 'Bearer forged-3']
  )
  t.same(
    standIn.received.map((r) => r.userToken?.sub),
    ['alice'],
    'only the good token reached Agent Studio'
  )
})

t.test('junk cookies beside the session cookie neither reach the session endpoint nor defeat its cache', async (t) => {
  // Issue 19: the cache was keyed by the whole Cookie header, so a client that changed a junk
  // cookie on every request made the gateway call the session endpoint every time.
  const { endpoint, send } = await setup(t)
  for (let n = 0; n < 5; n++) {
    const response = await send({ cookie: `junk${n}=${'x'.repeat(n)}; session=good-9; theme=${n}` })
    t.equal(response.statusCode, 200)
  }
  t.same(endpoint.calls, [{ cookie: 'session=good-9', authorization: undefined }], 'one call, with the session cookie alone')
  const encoded = await send({ cookie: 'session=good%2D10' })
  t.equal(encoded.statusCode, 200)
  t.equal(endpoint.calls.at(-1)!.cookie, 'session=good%2D10', 'the value is passed as the browser encoded it')
})

t.test('forward-auth "no" is a 401, never a 500, and nothing is forwarded', async (t) => {
  const { standIn, send } = await setup(t)
  const response = await send({ cookie: 'session=revoked' })
  t.equal(response.statusCode, 401)
  t.equal(response.json().error, 'session_invalid')
  // A 403 from the endpoint is a "no" too: not a 503 that tells the frontend to retry.
  const forbidden = await send({ cookie: 'session=forbidden' })
  t.equal(forbidden.statusCode, 401, 'a 403 from the session endpoint is a 401')
  t.equal(forbidden.json().error, 'session_invalid')
  t.equal(standIn.received.length, 0)
})

t.test('a 200 without a usable id is not a session', async (t) => {
  const { send } = await setup(t)
  const response = await send({ cookie: 'session=noid' })
  t.equal(response.statusCode, 401)
})

t.test('negative answers are not cached: a user who signs in is let in at once', async (t) => {
  const { endpoint, send } = await setup(t)
  t.equal((await send({ cookie: 'session=revoked' })).statusCode, 401)
  t.equal((await send({ cookie: 'session=revoked' })).statusCode, 401)
  t.equal(endpoint.calls.length, 2)
})

t.test('a session endpoint that times out is a 503 session_unavailable', async (t) => {
  const { standIn, send } = await setup(t, { SESSION_INTROSPECT_TIMEOUT_MS: '150' })
  const started = performance.now()
  const response = await send({ cookie: 'session=slow' })
  t.equal(response.statusCode, 503)
  t.same(response.json(), {
    error: 'session_unavailable',
    message: 'Your session could not be checked right now; try again shortly.',
    requestId: response.headers['x-request-id']
  })
  t.ok(performance.now() - started < 2000, 'the timeout bounded the wait')
  t.equal(standIn.received.length, 0)
})

t.test('a broken session endpoint is a 503, not a sign-out', async (t) => {
  const { send } = await setup(t)
  t.equal((await send({ cookie: 'session=broken' })).statusCode, 503)
})

t.test('with no credential the session endpoint is not even asked', async (t) => {
  const { endpoint, send } = await setup(t)
  const response = await send({ cookie: 'theme=dark' })
  t.equal(response.statusCode, 401)
  t.equal(response.json().error, 'session_required')
  t.equal(endpoint.calls.length, 0)
})

t.test('with SESSION_INTROSPECT_CACHE_SECONDS=0 every request asks the endpoint', async (t) => {
  const { endpoint, send } = await setup(t, { SESSION_INTROSPECT_CACHE_SECONDS: '0' })
  await send({ cookie: 'session=good' })
  await send({ cookie: 'session=good' })
  t.equal(endpoint.calls.length, 2)
})

t.test("forward-auth with SESSION_TENANT_CLAIM: the answer's tenant field scopes the user id", async (t) => {
  const { standIn, send } = await setup(t, { SESSION_TENANT_CLAIM: 'org' })
  const response = await send({ cookie: 'session=good-2' })
  t.equal(response.statusCode, 200)
  t.equal(standIn.received[0]!.userToken?.sub, 'acme:alice')

  const { standIn: other, send: sendOther } = await setup(t, { SESSION_TENANT_CLAIM: 'team' })
  const refused = await sendOther({ cookie: 'session=good-3' })
  t.equal(refused.statusCode, 401, 'an answer without the tenant field is no session')
  t.equal(refused.json().error, 'session_invalid')
  t.equal(other.received.length, 0)
})
