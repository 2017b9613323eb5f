import t from 'tap'
import type { Test } from 'tap'
import { AGENT_ID, APP_ORIGIN, completionBody, sessionToken } from '../helpers/fixtures.js'
import { sharedGateways } from '../helpers/gateway.js'

const path = `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`

// One stand-in and gateway per configuration for the whole file, a clean slate for each test
// (recorded requests, log lines), and a user of its own for each test (limits count per user).
const gatewayFor = sharedGateways(t)
let users = 0

async function setup(_t: Test, env: Record<string, string> = {}) {
  const { standIn, gateway } = await gatewayFor(env)
  const token = await sessionToken(`csrf-user-${++users}`)
  const send = (headers: Record<string, string>) =>
    gateway.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/json', host: 'gateway.example.com', ...headers },
      payload: completionBody()
    })
  return { standIn, gateway, token, send }
}

t.test('preflight from an allowed origin gets credentialed CORS headers', async (t) => {
  const { gateway } = await setup(t)
  const response = await gateway.app.inject({
    method: 'OPTIONS',
    url: path,
    headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }
  })
  t.equal(response.statusCode, 204)
  t.equal(response.headers['access-control-allow-origin'], APP_ORIGIN)
  t.equal(response.headers['access-control-allow-credentials'], 'true')
  t.match(response.headers['access-control-allow-methods'], /POST/)
  t.match(response.headers['access-control-allow-headers'], /content-type/)
})

t.test('preflight from any other origin gets no CORS permission', async (t) => {
  const { gateway } = await setup(t)
  const response = await gateway.app.inject({
    method: 'OPTIONS',
    url: path,
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' }
  })
  t.equal(response.headers['access-control-allow-origin'], undefined)
})

t.test('cookie session + foreign Origin is refused with 403 origin_not_allowed (CSRF)', async (t) => {
  const { standIn, token, send, gateway } = await setup(t)
  const response = await send({ cookie: `session=${token}`, origin: 'https://evil.example' })
  t.equal(response.statusCode, 403)
  t.same(response.json(), {
    error: 'origin_not_allowed',
    message: "Requests from this page's origin are not allowed (https://evil.example).",
    requestId: response.headers['x-request-id']
  })
  t.equal(response.headers['access-control-allow-origin'], undefined)
  t.equal(standIn.received.length, 0)
  t.match(gateway.logs.requests[0], { rule: 'origin_not_allowed', status: 403 })
})

t.test('cookie session + Origin: null (sandboxed frame) is refused', async (t) => {
  const { token, send } = await setup(t)
  t.equal((await send({ cookie: `session=${token}`, origin: 'null' })).statusCode, 403)
})

t.test('cookie session + allowed Origin is served with CORS headers', async (t) => {
  const { token, send } = await setup(t)
  const response = await send({ cookie: `session=${token}`, origin: APP_ORIGIN })
  t.equal(response.statusCode, 200)
  t.equal(response.headers['access-control-allow-origin'], APP_ORIGIN)
  t.equal(response.headers['access-control-allow-credentials'], 'true')
  t.match(response.headers['access-control-expose-headers'], /x-request-id/)
})

t.test("cookie session + same-origin page (Origin is this request's scheme and Host) is served", async (t) => {
  const { token, send } = await setup(t)
  // app.inject speaks plain http, so the gateway's own pages are http://<Host>.
  t.equal((await send({ cookie: `session=${token}`, origin: 'http://gateway.example.com' })).statusCode, 200)
})

t.test('cookie session without Origin: Sec-Fetch-Site decides for browsers', async (t) => {
  const { token, send } = await setup(t)
  t.equal((await send({ cookie: `session=${token}`, 'sec-fetch-site': 'cross-site' })).statusCode, 403)
  t.equal((await send({ cookie: `session=${token}`, 'sec-fetch-site': 'same-site' })).statusCode, 403)
  t.equal((await send({ cookie: `session=${token}`, 'sec-fetch-site': 'same-origin' })).statusCode, 200)
})

t.test('cookie session with neither Origin nor Sec-Fetch-Site (not a browser) is allowed by default, refused when configured', async (t) => {
  const open = await setup(t)
  t.equal((await open.send({ cookie: `session=${open.token}` })).statusCode, 200)
  const strict = await setup(t, { ALLOW_COOKIE_REQUESTS_WITHOUT_ORIGIN: 'false' })
  const response = await strict.send({ cookie: `session=${strict.token}` })
  t.equal(response.statusCode, 403)
  t.match(response.json().message, /must carry an Origin header/)
})

t.test('a bearer session is not subject to the cookie CSRF rule', async (t) => {
  const { token, send } = await setup(t)
  const response = await send({ authorization: `Bearer ${token}`, origin: 'https://evil.example' })
  t.equal(response.statusCode, 200, 'a cross-site page cannot attach the bearer token; the browser still withholds the answer (no CORS)')
  t.equal(response.headers['access-control-allow-origin'], undefined)
})

t.test('with both a bearer token and a cookie, the bearer token decides', async (t) => {
  const { send, standIn } = await setup(t)
  const cookieUser = await sessionToken('cookie-user')
  const bearerUser = await sessionToken('bearer-user')
  const response = await send({ cookie: `session=${cookieUser}`, authorization: `Bearer ${bearerUser}`, origin: 'https://evil.example' })
  t.equal(response.statusCode, 200)
  t.equal(standIn.received[0]!.userToken?.sub, 'bearer-user')
})

t.test('a custom cookie name is honoured and the default one ignored', async (t) => {
  const { token, send } = await setup(t, { SESSION_COOKIE_NAME: '__Host-app_session' })
  t.equal((await send({ cookie: `session=${token}`, origin: APP_ORIGIN })).statusCode, 401)
  t.equal((await send({ cookie: `__Host-app_session=${token}`, origin: APP_ORIGIN })).statusCode, 200)
})
