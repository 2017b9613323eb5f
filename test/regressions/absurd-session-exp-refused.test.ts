import t from 'tap'
import { SignJWT } from 'jose'
import { request } from 'undici'
import { TEST_KEYS } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'

// Issue 11, item 13: a session JWT with exp in the year 9999 was accepted: one leaked token was
// a session for ever. SESSION_MAX_AGE_SECONDS bounds how far ahead exp may lie.

const tokenExpiringAt = (exp: number) =>
  new SignJWT({ sub: 'alice' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(TEST_KEYS.sessionSecret))

t.test('a token whose exp lies beyond SESSION_MAX_AGE_SECONDS is refused; one within it is served', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { SESSION_MAX_AGE_SECONDS: '86400' } })
  const client = testClient(t)
  const ask = async (exp: number) => {
    const response = await request(`${gateway.url}/search-key`, {
      method: 'POST',
      dispatcher: client,
      headers: { authorization: `Bearer ${await tokenExpiringAt(exp)}` }
    })
    return { status: response.statusCode, body: (await response.body.json()) as { error?: string } }
  }
  const now = Math.floor(Date.now() / 1000)
  t.match(await ask(253402300799), { status: 401, body: { error: 'session_invalid' } }, 'exp in the year 9999')
  t.match(await ask(now + 86400 + 3600), { status: 401, body: { error: 'session_invalid' } }, 'an hour beyond the maximum age')
  t.equal((await ask(now + 86400 - 60)).status, 200, 'just within it')
})

t.test('the default maximum age is 30 days', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { listen: false })
  t.match(gateway.config.session, { kind: 'jwt', maxAgeSeconds: 2_592_000 })
})
