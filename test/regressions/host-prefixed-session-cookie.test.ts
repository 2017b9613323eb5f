import { readFileSync } from 'node:fs'
import t from 'tap'
import { request } from 'undici'
import { APP_ORIGIN, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'

// Issue 11, item 13: with duplicate cookie names the first one wins, and a sibling subdomain can
// set a cookie named like the session with a longer Path, so it is sent first ("cookie tossing":
// the victim is signed in as the attacker). A `__Host-` cookie cannot be set by another host, so
// docs/security.md recommends SESSION_COOKIE_NAME=__Host-session where the gateway shares the app's host.

t.test('SESSION_COOKIE_NAME=__Host-session: the prefixed cookie is the session, a tossed plain one is ignored', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { SESSION_COOKIE_NAME: '__Host-session' } })
  const client = testClient(t)
  const victim = await sessionToken('victim')
  const attacker = await sessionToken('attacker')
  const response = await request(`${gateway.url}/search-key`, {
    method: 'POST',
    dispatcher: client,
    headers: { origin: APP_ORIGIN, cookie: `session=${attacker}; __Host-session=${victim}` }
  })
  t.equal(response.statusCode, 200)
  await response.body.dump()
  t.equal(gateway.logs.requests.at(-1)!.userId, 'victim', 'the tossed cookie did not decide who the caller is')
  t.equal(standIn.received.length, 0)
})

t.test('docs/security.md recommends a __Host- session cookie name, and says why', async (t) => {
  const security = readFileSync('docs/security.md', 'utf8')
  t.match(security, /SESSION_COOKIE_NAME=__Host-session/)
  t.match(security, /first one wins/)
})
