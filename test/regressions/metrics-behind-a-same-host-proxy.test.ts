import t from 'tap'
import { request } from 'undici'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { limitsFile } from '../helpers/limits.js'

// Issue 11, item 11: with TRUSTED_PROXIES=127.0.0.1 (nginx on the same host), every client
// reached /metrics: the check looked at the socket peer, which is the proxy, on loopback.

t.test('behind a trusted proxy on loopback, /metrics is decided on the real client address', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { TRUSTED_PROXIES: '127.0.0.1' } })
  const client = testClient(t)
  const scrape = async (headers: Record<string, string>) => {
    const response = await request(`${gateway.url}/metrics`, { dispatcher: client, headers })
    return { status: response.statusCode, text: await response.body.text() }
  }
  const viaProxy = await scrape({ 'x-forwarded-for': '203.0.113.9' })
  t.equal(viaProxy.status, 404, 'an internet client relayed by the proxy is refused')
  t.match(JSON.parse(viaProxy.text), { error: 'not_found' })
  t.equal(
    (await scrape({ 'x-forwarded-for': '127.0.0.1, 203.0.113.9' })).status,
    404,
    'a client claiming loopback is still refused (the proxy appended its real address)'
  )
  const direct = await scrape({})
  t.equal(direct.status, 200, 'a scraper on the host itself, not relayed, is served')
  t.match(direct.text, /gateway_requests_total/)
})

t.test('allow-listed scrapers relayed by the proxy are served by their own address', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { TRUSTED_PROXIES: '127.0.0.1', GATEWAY_CONFIG_FILE: limitsFile({ allowList: ['10.0.0.0/8'] }) } })
  const response = await request(`${gateway.url}/metrics`, { dispatcher: testClient(t), headers: { 'x-forwarded-for': '10.1.2.3' } })
  t.equal(response.statusCode, 200)
  await response.body.dump()
})
