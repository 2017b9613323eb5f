import { once } from 'node:events'
import t from 'tap'
import type { Test } from 'tap'
import type { Browser, Page } from 'playwright-core'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config/load-config.js'
import { startDemoUpstream } from '../src/demo/demo-upstream.js'
import { LiveLimits } from '../src/limits/live-limits.js'
import { createLogger } from '../src/logging/logger.js'
import type { StandIn } from '../src/standin/standin.js'
import type { GatewayConfig } from '../src/config/types.js'
import { LogCapture } from './helpers/gateway.js'
import { launchBrowser, pageStorage, recordTraffic } from './helpers/browser.js'
import type { Exchange } from './helpers/browser.js'

// The demo's three pages in one real browser, against one demo gateway: the plain page, the
// InstantSearch.js chat widget and the AI SDK's useChat (bundled by scripts/build-web.mjs,
// which `npm test`'s pretest runs).
let address = ''
let standIn: StandIn
let config: GatewayConfig
let browser: Browser
const logs = new LogCapture()
const live = { limits: undefined as unknown as LiveLimits }

t.before(async () => {
  const { config: demoConfig } = loadConfig({ PORT: '0' }, { defaultConfigFile: undefined })
  const started = await startDemoUpstream(demoConfig, { paceMs: 5 })
  standIn = started.standIn
  config = started.config
  live.limits = new LiveLimits(config.limits)
  const app = await buildApp(config, { logger: createLogger({ level: 'info', pretty: false }, logs), live: live.limits })
  t.teardown(() => app.close())
  t.teardown(() => standIn.close())
  address = await app.listen({ host: '127.0.0.1', port: 0 })
  browser = await launchBrowser(t)
})

/** Lets `user` send `count` more completions, then refuses with 429 (per user, per window). */
function limitCompletions(max: number) {
  const current = live.limits.current
  live.limits.update({ ...current, routes: { ...current.routes, completions: { max, windowSeconds: 60 } } })
  return () => live.limits.update(current)
}

/** No Algolia credential in any request, response, storage or cookie of the page. */
async function assertNoAlgoliaCredential(t: Test, exchanges: Exchange[], page: Page) {
  const secrets = [config.algolia.apiKey, config.algolia.searchKey, config.algolia.secretKey, config.algolia.appId].filter((value): value is string => value !== undefined)
  const everything = JSON.stringify(exchanges) + await pageStorage(page)
  for (const secret of secrets) t.notOk(everything.includes(secret), `no ${secret.slice(0, 12)}… anywhere in the page's traffic or storage`)
  t.notOk(/x-algolia/i.test(JSON.stringify(exchanges.map((e) => [e.requestHeaders, e.responseHeaders]))), 'no x-algolia-* header either way')
  const hosts = new Set(exchanges.map((e) => new URL(e.url).host))
  t.same([...hosts], [new URL(address).host], 'the page talked to the gateway only (never to algolia.net)')
}

/** The previous answer's stream may close after its last word shows: wait for it, so the next close is the stopped one's. */
async function noOpenStreams() {
  while (standIn.openStreams() > 0) await once(standIn.events, 'stream-closed')
}

const completionsReceived = () => standIn.received.filter((r) => r.path.endsWith('/completions'))

t.test('the plain demo page: sign in as alice and watch an answer stream in', async (t) => {
  const context = await browser.newContext()
  context.setDefaultTimeout(20_000)
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(`${address}/`)
  t.match(await page.textContent('.banner'), /DEMO MODE/, 'the page says loudly that it is a demo')
  await page.fill('#question', 'Where is my order?')
  await page.click('#send')
  await page.waitForSelector('.error')
  t.match(await page.textContent('.error'), /Error 401: Sign in first/, 'before signing in, the gateway refuses with a readable message')

  await page.goto(`${address}/demo/login?user=alice`)
  t.equal(new URL(page.url()).pathname, '/', 'sign-in redirects to the chat')
  const cookies = await context.cookies()
  t.same(cookies.map((c) => [c.name, c.httpOnly]), [['session', true]], 'the browser holds one HttpOnly session cookie and nothing else')

  await page.fill('#question', 'Where is my order?')
  await page.click('#send')
  const answer = page.locator('.assistant').last()
  await answer.filter({ hasText: 'through the gateway.' }).waitFor({ timeout: 20_000 })
  t.match(await answer.textContent(), /^Agent: You asked: "Where is my order\?"\. This answer comes from the Agent Studio stand-in/)
  const storage = await page.evaluate('JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } })')
  t.equal(storage, '{"local":{},"session":{}}', 'no token is stored in the page')
  t.equal(completionsReceived().at(-1)?.userToken?.sub, 'alice', 'Agent Studio saw alice, proven by the gateway')
  t.ok(logs.requests.some((line) => line.userId === 'alice' && line.status === 200 && line.upstreamStatus === 200))
})

t.test('the InstantSearch chat widget (transport mode): two turns, a vote, stop, regenerate, history list/open/delete, 429 and 401', async (t) => {
  const context = await browser.newContext()
  context.setDefaultTimeout(20_000)
  t.teardown(() => context.close())
  const traffic = recordTraffic(context)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  await page.goto(`${address}/demo/login?user=carol&next=/demo/instantsearch`)
  t.equal(new URL(page.url()).pathname, '/demo/instantsearch')
  await page.locator('#history-list li', { hasText: 'No conversations yet.' }).waitFor()
  await page.click('#open-chat')

  const prompt = page.locator('.ais-ChatPrompt-textarea')
  const assistant = page.locator('.ais-ChatMessage[data-role="assistant"]')
  // Enter while the widget is still busy would press Stop instead of sending.
  const idle = () => page.locator('.ais-ChatPrompt-submit[data-status="error"], .ais-ChatPrompt-submit[data-status="ready"]').waitFor({ state: 'attached' })
  const ask = async (text: string) => {
    await idle()
    const before = await assistant.count()
    await prompt.fill(text)
    await prompt.press('Enter')
    await assistant.nth(before).filter({ hasText: 'through the gateway.' }).waitFor()
  }
  await ask('Do you ship to Norway?')
  t.match(await assistant.first().textContent(), /You asked: "Do you ship to Norway\?"/, 'the first answer streamed into the widget')
  await ask('And to Iceland?')
  t.match(await assistant.nth(1).textContent(), /You asked: "And to Iceland\?"/, 'a second turn')
  const [first, second] = completionsReceived().filter((r) => r.userToken?.sub === 'carol')
  const firstBody = first!.body as { id: string; messages: unknown[] }
  const secondBody = second!.body as { id: string; messages: unknown[] }
  t.equal(secondBody.id, firstBody.id, 'both turns went to one conversation')
  t.equal(secondBody.messages.length, 3, 'the second turn carries the history')

  // Custom thumbs (the widget's own exist only in agentId mode) post to the gateway.
  await assistant.nth(1).locator('.demo-thumb[data-vote="1"]').click()
  await assistant.nth(1).locator('.demo-voted', { hasText: 'Thanks' }).waitFor()
  const vote = standIn.store.feedback.at(-1)!
  t.match(vote, { userToken: 'carol', body: { vote: 1, agentId: config.policy.allowedAgentIds[0] } }, 'Agent Studio got carol\'s vote')

  // Stop: hold the stream after a few events and press the prompt's stop button.
  let release = () => {}
  standIn.setBeforeEvent((index) => (index === 4 ? new Promise<void>((resolve) => { release = resolve }) : undefined))
  t.teardown(() => { standIn.setBeforeEvent(null); release() })
  await noOpenStreams()
  const closed = new Promise<{ early: boolean }>((resolve) => standIn.events.once('stream-closed', resolve))
  await prompt.fill('Please stop')
  await prompt.press('Enter')
  await page.locator('.ais-ChatPrompt-submit[data-status="streaming"]').click()
  t.equal((await closed).early, true, 'stopping the widget ended the upstream stream early')
  standIn.setBeforeEvent(null)
  release()
  await idle()

  // Regenerate (the widget's own action, kept in our actions template).
  const answers = await assistant.count()
  await assistant.last().locator('button[title="Regenerate"]').click()
  await assistant.last().filter({ hasText: 'Please stop' }).filter({ hasText: 'through the gateway.' }).waitFor()
  t.equal(await assistant.count(), answers, 'the answer was replaced')
  t.equal((completionsReceived().at(-1)!.body as { trigger?: string }).trigger, 'regenerate-message')

  // History: list, open, continue, delete.
  await page.click('#history-refresh')
  const item = page.locator('#history-list li[data-id]')
  await item.first().waitFor()
  t.equal(await item.count(), 1, 'one conversation listed')
  t.match(await item.first().locator('.history-open').textContent(), /Do you ship to Norway/)
  await page.locator('.ais-ChatHeader-clear').click()
  await assistant.first().waitFor({ state: 'detached' })
  await item.first().locator('.history-open').click()
  // (The stand-in stores the user's messages only; Agent Studio also keeps the answers.)
  const userMessages = page.locator('.ais-ChatMessage[data-role="user"]')
  await userMessages.nth(1).filter({ hasText: 'And to Iceland?' }).waitFor()
  t.match(await userMessages.first().textContent(), /Do you ship to Norway\?/, 'opening it shows the stored conversation again')
  const storedCount = await page.locator('.ais-ChatMessage').count()
  await ask('One more question')
  const continued = completionsReceived().filter((r) => r.userToken?.sub === 'carol').at(-1)!.body as { id: string; messages: unknown[] }
  t.equal(continued.id, firstBody.id, 'a message after opening continues that conversation')
  t.equal(continued.messages.length, storedCount + 1, 'with the opened history')
  await item.first().locator('.history-delete').click()
  await page.locator('#history-list li', { hasText: 'No conversations yet.' }).waitFor()
  t.ok(standIn.received.some((r) => r.method === 'DELETE' && r.path.includes('/conversations/')), 'the delete reached Agent Studio')

  // 429: the widget's transport fetch shows the wait.
  const restore = limitCompletions(0 + 1)
  t.teardown(restore)
  await idle()
  await prompt.fill('too fast')
  await prompt.press('Enter')
  await page.locator('#status[data-code="rate_limited"]').waitFor()
  t.match(await page.textContent('#status'), /Too many messages: wait \d+ seconds/)
  restore()
  // The banner comes from the transport's fetch, before the widget settles.
  await idle()

  // 401: the session is gone; the page offers to sign in again.
  await context.clearCookies()
  await page.locator('.ais-ChatHeader-clear').click()
  await prompt.fill('still there?')
  await prompt.press('Enter')
  await page.locator('#status[data-code="session_required"]').waitFor()
  t.match(await page.textContent('#status'), /Your session has ended\. Sign in again/)

  await traffic.settled()
  await assertNoAlgoliaCredential(t, traffic.exchanges, page)
  t.same(errors, [], 'no uncaught error in the page')
})

t.test('AI SDK useChat: resume probe, two turns, stop, regenerate, 429, 401 and a broken stream', async (t) => {
  const context = await browser.newContext()
  context.setDefaultTimeout(20_000)
  t.teardown(() => context.close())
  const traffic = recordTraffic(context)
  const page = await context.newPage()
  await page.goto(`${address}/demo/login?user=dave&next=/demo/use-chat`)
  await page.locator('#status[data-status="ready"]').waitFor()
  const probe = traffic.exchanges.find((e) => /\/completions\/[^/]+\/stream/.test(e.url))
  t.ok(probe, 'useChat({ resume: true }) probed for a stream to resume')
  t.equal(await page.locator('#error').count(), 0, 'the gateway\'s 204 leaves the page without an error')

  const answers = page.locator('#messages li.assistant')
  const ask = async (text: string) => {
    await page.fill('#question', text)
    await page.click('#send')
  }
  await ask('First question')
  await answers.first().filter({ hasText: 'through the gateway.' }).waitFor()
  await ask('Second question')
  await answers.nth(1).filter({ hasText: 'through the gateway.' }).waitFor()
  const daves = () => completionsReceived().filter((r) => r.userToken?.sub === 'dave').map((r) => r.body as { id: string; trigger?: string; messages: unknown[] })
  t.equal(daves()[1]!.id, daves()[0]!.id, 'both turns in one conversation')

  // Stop: hold the stream after a few events, press Stop, and Agent Studio sees the call end.
  let release = () => {}
  standIn.setBeforeEvent((index) => (index === 4 ? new Promise<void>((resolve) => { release = resolve }) : undefined))
  t.teardown(() => { standIn.setBeforeEvent(null); release() })
  await noOpenStreams()
  const closed = new Promise<{ early: boolean }>((resolve) => standIn.events.once('stream-closed', resolve))
  await ask('Please stop me')
  await page.locator('#status[data-status="streaming"]').waitFor()
  await page.click('#stop')
  await page.locator('#status[data-status="ready"]').waitFor()
  t.equal((await closed).early, true, 'stopping in the browser ended the upstream stream early')
  standIn.setBeforeEvent(null)
  release()

  // Regenerate: the same history again, marked as a regeneration.
  const before = await answers.count()
  await page.click('#regenerate')
  await answers.last().filter({ hasText: 'Please stop me' }).filter({ hasText: 'through the gateway.' }).waitFor()
  t.equal(await answers.count(), before, 'the last answer was replaced, not added')
  t.equal(daves().at(-1)!.trigger, 'regenerate-message')

  // A stream that breaks after it started: the error event's text, and a retry button.
  await ask('[fail] now')
  await page.locator('#error[data-action="retry"]').waitFor()
  t.match(await page.textContent('#error'), /interrupted|unavailable/i)
  await page.click('#dismiss')

  // 429 with the wait in the message.
  const restore = limitCompletions(1)
  t.teardown(restore)
  await ask('too fast')
  await page.locator('#error[data-action="wait"][data-code="rate_limited"]').waitFor()
  t.match(await page.textContent('#error'), /Too many requests; retry in \d+ seconds\./)
  restore()
  await page.click('#dismiss')

  // 401: sign in again.
  await context.clearCookies()
  await ask('still there?')
  await page.locator('#error[data-action="sign-in"]').waitFor()
  t.match(await page.textContent('#error'), /Your session has ended\. Sign in again/)

  await traffic.settled()
  await assertNoAlgoliaCredential(t, traffic.exchanges, page)
})
