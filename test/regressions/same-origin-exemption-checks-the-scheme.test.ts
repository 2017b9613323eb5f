import t from 'tap'
import { request } from 'undici'
import { sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'

// Issue 11, item 13: the same-origin CSRF exemption compared the host after "://" only, so
// `Origin: javascript://HOST` (or an http page on the host of an https gateway) passed with the
// victim's cookie.

t.test('a cookie session from an origin with the right host but the wrong scheme is refused', async (t) => {
  const { url } = await startStandIn(t)
  // Behind a TLS-terminating proxy on loopback: X-Forwarded-Proto says how the browser came.
  const gateway = await startGateway(t, url, { env: { TRUSTED_PROXIES: '127.0.0.1' } })
  const client = testClient(t)
  const host = new URL(gateway.url).host
  const cookie = `session=${await sessionToken('alice')}`
  const send = async (origin: string, proto: string) => {
    const response = await request(`${gateway.url}/search-key`, { method: 'POST', dispatcher: client, headers: { cookie, origin, 'x-forwarded-proto': proto } })
    return { status: response.statusCode, body: (await response.body.json()) as { error?: string } }
  }
  t.match(await send(`javascript://${host}`, 'https'), { status: 403, body: { error: 'origin_not_allowed' } }, 'javascript://HOST')
  t.match(await send(`ftp://${host}`, 'https'), { status: 403 }, 'ftp://HOST')
  t.match(await send(`http://${host}`, 'https'), { status: 403 }, 'an http page against an https gateway')
  t.match(await send(`https://${host}`, 'http'), { status: 403 }, 'an https page against the http listener')
  t.equal((await send(`https://${host}`, 'https')).status, 200, "the gateway's own https page is served")
  t.equal((await send(`http://${host}`, 'http')).status, 200, 'and its own http page, when it is served over http')
})

t.test('an X-Forwarded-Proto that is not http or https is not believed, even from a trusted proxy', async (t) => {
  // Issue 19: a proxy that passed a client's `X-Forwarded-Proto: javascript` through made
  // `javascript://HOST` the gateway's own origin.
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { TRUSTED_PROXIES: '127.0.0.1' } })
  const client = testClient(t)
  const host = new URL(gateway.url).host
  const cookie = `session=${await sessionToken('alice')}`
  for (const [origin, proto] of [
    [`javascript://${host}`, 'javascript'],
    [`ftp://${host}`, 'ftp'],
    [`javascript://${host}`, 'https, javascript']
  ]) {
    const response = await request(`${gateway.url}/search-key`, {
      method: 'POST',
      dispatcher: client,
      headers: { cookie, origin: origin!, 'x-forwarded-proto': proto! }
    })
    t.equal(response.statusCode, 403, `${origin} with X-Forwarded-Proto: ${proto}`)
    t.match(await response.body.json(), { error: 'origin_not_allowed' })
  }
  const own = await request(`${gateway.url}/search-key`, {
    method: 'POST',
    dispatcher: client,
    headers: { cookie, origin: `http://${host}`, 'x-forwarded-proto': 'JavaScript' }
  })
  t.equal(own.statusCode, 200, "the socket's own scheme (http) stands in for an unbelievable one")
  await own.body.dump()
})
