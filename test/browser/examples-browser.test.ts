// @test-process: alone (starts Chromium: slow, and its CPU is better beside the groups than inside one)
import t from 'tap'
import type { Test } from 'tap'
import type { Browser } from 'playwright-core'
import * as sameSite from '../../examples/same-site-cookie/server.js'
import * as crossSite from '../../examples/cross-site-bearer/server.js'
import * as reverseProxy from '../../examples/reverse-proxy/server.js'
import type { StandIn } from '../../standin/src/standin.js'
import { AGENT_ID, TEST_KEYS } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'
import { launchBrowser, newContext, recordTraffic } from '../helpers/browser.js'

// Each deployment shape of examples/, started as its README says and driven in Chromium: the
// app on its own host name (*.test names resolve to this machine, see helpers/browser.ts), the
// real gateway, the Agent Studio stand-in behind it.
let browser: Browser
let standIn: StandIn
let agentStudioUrl: URL

t.before(async () => {
  const started = await startStandIn(t, { paceMs: 2 })
  standIn = started.standIn
  agentStudioUrl = started.url
  browser = await launchBrowser(t)
})

const portOf = (address: string) => new URL(address).port
const completionsFor = (user: string) => standIn.received.filter((r) => r.path.endsWith('/completions') && r.userToken?.sub === user)

async function chat(t: Test, appUrl: string, user: string) {
  const context = await newContext(browser, t)
  const traffic = recordTraffic(context)
  const page = await context.newPage()
  await page.goto(`${appUrl}/login?user=${user}`)
  await page.fill('#question', 'Is this the right setup?')
  await page.click('#send')
  await page.locator('p.assistant', { hasText: 'through the gateway.' }).waitFor()
  t.match(await page.textContent('p.assistant'), /^Agent: You asked: "Is this the right setup\?"/, 'the answer streamed into the page')
  t.equal(completionsFor(user).length, 1, `Agent Studio saw ${user}, proven by the gateway`)
  await traffic.settled()
  return { context, page, traffic }
}

t.test("same-site: the app's cookie with Domain= reaches the gateway on another subdomain", async (t) => {
  const settings: sameSite.AppSettings = {
    gatewayUrl: '',
    agentId: AGENT_ID,
    sessionSecret: TEST_KEYS.sessionSecret,
    cookieDomain: 'example.test',
    secureCookie: false
  }
  const app = sameSite.createApp(settings)
  t.teardown(() => app.close())
  const appUrl = `http://app.example.test:${portOf(await app.listen({ host: '127.0.0.1', port: 0 }))}`
  const gateway = await startGateway(t, agentStudioUrl, { env: { ALLOWED_ORIGINS: appUrl } })
  settings.gatewayUrl = `http://chat.example.test:${portOf(gateway.url)}`

  const { context, page, traffic } = await chat(t, appUrl, 'sam')
  const [cookie] = await context.cookies()
  t.match(cookie, { name: 'session', domain: '.example.test', httpOnly: true, sameSite: 'Lax' }, 'one HttpOnly cookie for the whole site')
  const sent = traffic.exchanges.find((e) => e.method === 'POST' && e.url.startsWith(settings.gatewayUrl))!
  t.match(sent.requestHeaders.cookie, /^session=/, 'the browser sent it to chat.example.test')
  t.equal(sent.responseHeaders?.['access-control-allow-origin'], appUrl)

  // Why Domain= matters: the same cookie, host-only, never reaches the gateway.
  await context.clearCookies()
  await context.addCookies([{ ...cookie!, domain: 'app.example.test' }])
  await page.reload()
  await page.fill('#question', 'And now?')
  await page.click('#send')
  await page.locator('[role=alert]', { hasText: 'Sign in first' }).waitFor()
  t.pass("a host-only cookie gets 401 session_required, shown as the gateway's message")
})

t.test("cross-site: a bearer token from the transport's headers function, no cookie at all", async (t) => {
  const settings: crossSite.AppSettings = {
    gatewayUrl: '',
    agentId: AGENT_ID,
    chatTokenSecret: TEST_KEYS.sessionSecret,
    appSessionSecret: 'app-only-secret-never-shared-with-the-gateway'
  }
  const app = crossSite.createApp(settings)
  t.teardown(() => app.close())
  const appUrl = `http://shop.test:${portOf(await app.listen({ host: '127.0.0.1', port: 0 }))}`
  const gateway = await startGateway(t, agentStudioUrl, { env: { ALLOWED_ORIGINS: appUrl } })
  settings.gatewayUrl = `http://chat.example.test:${portOf(gateway.url)}`

  const { traffic } = await chat(t, appUrl, 'cross')
  const toGateway = traffic.exchanges.filter((e) => e.url.startsWith(settings.gatewayUrl))
  const preflight = toGateway.find((e) => e.method === 'OPTIONS')
  const post = toGateway.find((e) => e.method === 'POST')!
  t.match(post.requestHeaders.authorization, /^Bearer ey/, 'the page sent the token from /api/chat-token')
  t.equal(post.requestHeaders.cookie, undefined, 'and no cookie')
  t.equal(post.responseHeaders?.['access-control-allow-origin'], appUrl)
  t.ok(
    gateway.logs.requests.some((line) => line.method === 'OPTIONS' && line.status === 204),
    'the authorization header was preflighted at the gateway'
  )
  // Chromium may send the preflight out of the page's sight; when the context saw it, it allowed authorization.
  if (preflight !== undefined) t.match(preflight.responseHeaders?.['access-control-allow-headers'], /authorization/)
  t.notOk(
    gateway.logs.requests.some((line) => line.cors !== undefined),
    "no CORS refusal in the gateway's log"
  )
})

t.test('same origin through a Host-rewriting reverse proxy: X-Forwarded-Host from a trusted proxy', async (t) => {
  const env = { ALLOWED_ORIGINS: '', TRUSTED_PROXIES: '127.0.0.1' }
  const gateway = await startGateway(t, agentStudioUrl, { env })
  const settings: reverseProxy.AppSettings = { gatewayUrl: gateway.url, agentId: AGENT_ID, sessionSecret: TEST_KEYS.sessionSecret }
  const app = await reverseProxy.createApp(settings)
  t.teardown(() => app.close())
  const appUrl = `http://shop.example.test:${portOf(await app.listen({ host: '127.0.0.1', port: 0 }))}`

  const { traffic } = await chat(t, appUrl, 'proxied')
  t.same([...new Set(traffic.exchanges.map((e) => new URL(e.url).origin))], [appUrl], 'the browser talked to one origin only')
  t.ok(gateway.logs.requests.some((line) => line.userId === 'proxied' && line.status === 200))

  // Without TRUSTED_PROXIES the same proxy is refused: its X-Forwarded-Host could be anyone's.
  const untrusting = await startGateway(t, agentStudioUrl, { env: { ALLOWED_ORIGINS: '' } })
  const app2 = await reverseProxy.createApp({ ...settings, gatewayUrl: untrusting.url })
  t.teardown(() => app2.close())
  const app2Url = `http://shop.example.test:${portOf(await app2.listen({ host: '127.0.0.1', port: 0 }))}`
  const context = await newContext(browser, t)
  const page = await context.newPage()
  await page.goto(`${app2Url}/login?user=refused`)
  await page.fill('#question', 'Hello?')
  await page.click('#send')
  await page.locator('[role=alert]', { hasText: 'origin are not allowed' }).waitFor()
  t.match(untrusting.logs.requests.at(-1), { status: 403, rule: 'origin_not_allowed' })
})
