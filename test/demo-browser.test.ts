import t from 'tap'
import { chromium } from 'playwright-core'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config/load-config.js'
import { startDemoUpstream } from '../src/demo/demo-upstream.js'
import { createLogger } from '../src/logging/logger.js'
import { LogCapture } from './helpers/gateway.js'

/** Debian's Chromium (never a downloaded browser); the flags keep it off this machine's closed network. */
const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

t.test('the demo: sign in as alice in a real browser and watch an answer stream in', async (t) => {
  const { config: demoConfig } = loadConfig({ PORT: '0' }, { defaultConfigFile: undefined })
  const { config, standIn } = await startDemoUpstream(demoConfig)
  t.teardown(() => standIn.close())
  const logs = new LogCapture()
  const app = await buildApp(config, { logger: createLogger({ level: 'info', pretty: false }, logs) })
  t.teardown(() => app.close())
  const address = await app.listen({ host: '127.0.0.1', port: 0 })

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  t.teardown(() => browser.close())
  const page = await browser.newPage()

  await page.goto(`${address}/`)
  t.match(await page.textContent('.banner'), /DEMO MODE/, 'the page says loudly that it is a demo')
  await page.fill('#question', 'Where is my order?')
  await page.click('#send')
  await page.waitForSelector('.error')
  t.match(await page.textContent('.error'), /Error 401: Sign in first/, 'before signing in, the gateway refuses with a readable message')

  await page.goto(`${address}/demo/login?user=alice`)
  t.equal(new URL(page.url()).pathname, '/', 'sign-in redirects to the chat')
  const cookies = await page.context().cookies()
  t.same(cookies.map((c) => [c.name, c.httpOnly]), [['session', true]], 'the browser holds one HttpOnly session cookie and nothing else')

  await page.fill('#question', 'Where is my order?')
  await page.click('#send')
  const answer = page.locator('.assistant').last()
  await answer.filter({ hasText: 'through the gateway.' }).waitFor({ timeout: 10_000 })
  t.match(await answer.textContent(), /^Agent: You asked: "Where is my order\?"\. This answer comes from the Agent Studio stand-in/)

  const storage = await page.evaluate('JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } })')
  t.equal(storage, '{"local":{},"session":{}}', 'no token is stored in the page')
  const completions = standIn.received.filter((r) => r.path.endsWith('/completions'))
  t.equal(completions.at(-1)?.userToken?.sub, 'alice', 'Agent Studio saw alice, proven by the gateway')
  t.ok(logs.requests.some((line) => line.userId === 'alice' && line.status === 200 && line.upstreamStatus === 200))
})
