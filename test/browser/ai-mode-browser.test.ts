// @test-process: alone (starts Chromium: slow, and its CPU is better beside the groups than inside one)
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { build } from 'esbuild'
import { AGENT_ID, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'
import { launchBrowser, newContext } from '../helpers/browser.js'
import { waitFor } from '../helpers/requests.js'

// Issue 23, items 3 and 4 in Chromium: InstantSearch's AI-mode search box on a page of another
// site opens the chat through instantsearch.js's own `openChat`, which sends
// `x-algolia-referer: ai-mode`. With the default CORS_ALLOWED_HEADERS the browser's real preflight
// passes (before, it failed: "Failed to fetch"), the answer streams into the widget, and Agent
// Studio sees the label. The same page changes a vote with PATCH (a preflighted method).

t.test('the AI-mode search box opens the chat across sites: the preflight allows x-algolia-referer and Agent Studio gets it', async (t) => {
  const { standIn, url } = await startStandIn(t, { paceMs: 2 })
  const bundle = await build({
    entryPoints: ['web/test-pages/ai-mode-page.ts'],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['chrome120'],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning'
  })
  let config = ''
  const pages = createServer((request, response) => {
    if (request.url === '/page.js') return response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle.outputFiles[0]!.text)
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(`<!doctype html><meta charset="utf-8"><div id="search"></div><div id="chat"></div>
<button id="change-vote" type="button">change vote</button><p id="vote-status"></p><script>window.TEST_CONFIG = ${config}</script><script src="/page.js"></script>`)
  })
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => pages.close(resolve)))
  const appOrigin = `http://shop.test:${(pages.address() as AddressInfo).port}`
  const browser = await launchBrowser(t)
  const open = async (gatewayUrl: string) => {
    config = JSON.stringify({ gatewayUrl, agentId: AGENT_ID, token: await sessionToken('shopper') })
    const context = await newContext(browser, t)
    const page = await context.newPage()
    await page.goto(`${appOrigin}/`)
    await page.fill('.ais-SearchBox-input', 'waterproof hiking boots')
    await page.click('button.ais-AiModeButton')
    return page
  }
  const crossSite = (gateway: { url: string }) => `http://chat.example.test:${new URL(gateway.url).port}`

  // Before issue 23: CORS_ALLOWED_HEADERS without x-algolia-referer. Chromium refuses the
  // preflight, the widget shows an error, nothing reaches Agent Studio.
  const before = await startGateway(t, url, { env: { ALLOWED_ORIGINS: appOrigin, CORS_ALLOWED_HEADERS: 'content-type,authorization' } })
  const failing = await open(crossSite(before))
  await failing.locator('.ais-ChatMessage--left, .ais-Chat-error, [class*="rror"]').first().waitFor()
  // The preflight's line is written when its connection is done with it, which can be a moment
  // after the page has shown the error (seen in CI): wait for the line itself.
  await waitFor(() => before.logs.requests.some((line) => line.method === 'OPTIONS'), 10_000)
  t.match(
    before.logs.requests.find((line) => line.method === 'OPTIONS'),
    { status: 204, cors: 'cors_header_not_allowed', header: 'x-algolia-referer' },
    'the preflight was refused for x-algolia-referer'
  )
  t.equal(standIn.received.length, 0, 'no completion left the browser')

  const gateway = await startGateway(t, url, { env: { ALLOWED_ORIGINS: appOrigin } })
  const page = await open(crossSite(gateway))
  await page.locator('.ais-ChatMessage', { hasText: 'streamed word by word through the gateway.' }).waitFor()
  const completion = standIn.received.find((r) => r.path.endsWith('/completions'))!
  t.equal(completion.headers['x-algolia-referer'], 'ai-mode', 'Agent Studio got the entry point')
  t.equal(completion.userToken?.sub, 'shopper')
  t.match(
    gateway.logs.requests.find((line) => line.method === 'OPTIONS'),
    { status: 204, cors: undefined },
    'with the default CORS_ALLOWED_HEADERS the preflight passed'
  )
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
  t.match(metrics, /gateway_entry_points_total\{entry_point="ai-mode"\} 1/)

  await page.click('#change-vote')
  await page.locator('#vote-status', { hasText: /\d/ }).waitFor()
  t.equal(await page.textContent('#vote-status'), '201 200 vote=0', 'POST then PATCH, both across sites')
  t.ok(
    gateway.logs.requests.some((line) => line.method === 'PATCH' && line.status === 200),
    'the PATCH itself reached the gateway after its preflight'
  )
  t.equal(standIn.store.feedback[0]?.stored?.vote, 0, 'Agent Studio holds the changed vote')
})
