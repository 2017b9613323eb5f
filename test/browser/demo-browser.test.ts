// @test-process: alone (starts Chromium: the slowest file of the suite)
import { once } from 'node:events'
import t from 'tap'
import type { Test } from 'tap'
import type { Browser, Page } from 'playwright-core'
import { buildApp } from '../../src/app.js'
import { prepareDemo } from '../../demo/prepare.js'
import { LiveLimits } from '../../src/config/live-limits.js'
import { createLogger } from '../../src/logging/logger.js'
import type { StandIn } from '../../standin/src/standin.js'
import type { GatewayConfig } from '../../src/config/types.js'
import { LogCapture } from '../helpers/gateway.js'
import { launchBrowser, newContext, pageStorage, recordTraffic, screenshot } from '../helpers/browser.js'
import type { Exchange } from '../helpers/browser.js'

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
  // Exactly what `npm start` builds (demo/main.ts), listening in this process.
  const demo = await prepareDemo({ PORT: '0' }, { paceMs: 5, load: { defaultConfigFile: undefined } })
  standIn = demo.standIn
  config = demo.config
  live.limits = new LiveLimits(config.limits)
  const app = await buildApp(config, { logger: createLogger({ level: 'info' }, logs), live: live.limits, plugins: [demo.pages] })
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
  const secrets = [config.algolia.apiKey, config.algolia.searchKey, config.algolia.secretKey, config.algolia.appId].filter(
    (value): value is string => value !== undefined
  )
  const everything = JSON.stringify(exchanges) + (await pageStorage(page))
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

/** The widget shows the failure once: no page banner beside it, never the widget's default "contact support". */
async function oneErrorMessage(t: Test, page: Page) {
  t.equal(await page.locator('.demo-error').count(), 1, 'one error message in the widget')
  t.ok(await page.locator('#status').isHidden(), 'and no page banner beside it')
  t.notMatch(await page.textContent('body'), /contact support/i, "never the widget's default message")
}

/** The retry-after header of the last refused completion the page received. */
async function retryAfterOfLastRefusal(traffic: ReturnType<typeof recordTraffic>) {
  await traffic.settled()
  const refused = traffic.exchanges.findLast((e) => e.method === 'POST' && e.url.includes('/completions') && e.status === 429)
  return refused?.responseHeaders?.['retry-after']
}

t.test('the plain demo page: sign in as alice and watch an answer stream in', async (t) => {
  const context = await newContext(browser, t)
  const page = await context.newPage()
  await page.goto(`${address}/`)
  t.match(await page.textContent('.banner'), /DEMO MODE/, 'the page says loudly that it is a demo')
  t.equal(await page.textContent('#who'), 'Not signed in', 'the page says nobody is signed in')
  await page.fill('#question', 'Where is my order?')
  await page.click('#send')
  await page.waitForSelector('.error')
  t.match(await page.textContent('.error'), /Error 401: Sign in first/, 'before signing in, the gateway refuses with a readable message')

  await page.goto(`${address}/demo/login?user=alice`)
  t.equal(new URL(page.url()).pathname, '/', 'sign-in redirects to the chat')
  t.equal(await page.getAttribute('#who', 'data-user'), 'alice', 'the page names the signed-in user')
  const cookies = await context.cookies()
  t.same(
    cookies.map((c) => [c.name, c.httpOnly]),
    [['session', true]],
    'the browser holds one HttpOnly session cookie and nothing else'
  )

  await page.fill('#question', 'Where is my order?')
  await page.click('#send')
  const answer = page.locator('.assistant').last()
  await answer.filter({ hasText: 'through the gateway.' }).waitFor()
  t.match(await answer.textContent(), /^Agent: You asked: "Where is my order\?"\. This answer comes from the Agent Studio stand-in/)
  const storage = await page.evaluate('JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } })')
  t.equal(storage, '{"local":{},"session":{}}', 'no token is stored in the page')
  t.equal(completionsReceived().at(-1)?.userToken?.sub, 'alice', 'Agent Studio saw alice, proven by the gateway')
  t.ok(logs.requests.some((line) => line.userId === 'alice' && line.status === 200 && line.upstreamStatus === 200))
  await screenshot(page, 'plain-page')
})

t.test('the sign-in page offers alice, bob and carol; every demo page names who is signed in; sign-out ends the session', async (t) => {
  const context = await newContext(browser, t)
  const page = await context.newPage()
  await page.goto(`${address}/demo/login?next=/demo/use-chat`)
  t.same(await page.locator('#users a.demo-user').allTextContents(), ['Sign in as alice', 'Sign in as bob', 'Sign in as carol'], 'a choice of demo users')
  t.same(await context.cookies(), [], 'showing the choice signs nobody in')
  await screenshot(page, 'sign-in-page')
  await page.click('a.demo-user[data-user="bob"]')
  await page.waitForURL(`${address}/demo/use-chat`)

  for (const path of ['/', '/demo/instantsearch', '/demo/use-chat']) {
    await page.goto(`${address}${path}`)
    t.equal(await page.getAttribute('#who', 'data-user'), 'bob', `${path} says bob is signed in`)
    t.equal(await page.locator('#sign-out').count(), 1, `${path} offers to sign out`)
  }
  await page.locator('#app[data-state="ready"]').waitFor()
  await page.click('#sign-out')
  await page.locator('#signed-out').waitFor()
  t.equal(new URL(page.url()).pathname, '/demo/login', 'signing out leads to the sign-in page')
  t.same(await context.cookies(), [], 'the session cookie is gone')
  t.equal(await page.getAttribute('#who', 'data-user'), '', 'and the page says nobody is signed in')

  await page.goto(`${address}/demo/use-chat`)
  t.equal(await page.textContent('#who'), 'Not signed in')
  const problem = page.locator('#problem[data-action="sign-in"]')
  await problem.waitFor()
  t.equal(await problem.locator('.problem-text').textContent(), 'Sign in first: this request carries no session.', "the gateway's own message")
  t.equal(await problem.locator('a').getAttribute('href'), '/demo/login?next=%2Fdemo%2Fuse-chat', 'with nobody to sign in again as, the page to pick a user')
})

t.test('the InstantSearch chat widget (transport mode): two turns, product cards, a vote, stop, regenerate, history list/open/delete', async (t) => {
  const context = await newContext(browser, t)
  const traffic = recordTraffic(context)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  await page.goto(`${address}/demo/login?user=carol&next=/demo/instantsearch`)
  t.equal(new URL(page.url()).pathname, '/demo/instantsearch')
  t.equal(await page.getAttribute('#who', 'data-user'), 'carol', 'the page names the signed-in user')
  await page.locator('#history-list li', { hasText: 'No conversations yet.' }).waitFor()

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

  // A search answer: each hit as a product card (templates.item), never as raw JSON.
  await ask('[search] trail shoes')
  const cards = assistant.last().locator('.demo-hit')
  t.same(await cards.locator('.demo-hit-name').allTextContents(), ['trail shoes 1', 'trail shoes 2', 'trail shoes 3'], 'a card per hit, with its name')
  t.same(await cards.locator('.demo-hit-price').allTextContents(), ['$10.00', '$20.00', '$30.00'], 'and its price')
  t.same(await cards.locator('.demo-hit-brand').allTextContents(), ['Stand-in Outfitters', 'Stand-in Outfitters', 'Stand-in Outfitters'], 'and its brand')
  const pictures = await cards.locator('img').evaluateAll((images) =>
    Promise.all(
      images.map((element) => {
        const image = element as unknown as { decode(): Promise<void>; naturalWidth: number }
        return image.decode().then(
          () => image.naturalWidth,
          () => 0
        )
      })
    )
  )
  t.same(pictures, [80, 80, 80], 'and its picture, loaded')
  t.notMatch(await assistant.last().textContent(), /objectID|_highlightResult|"price"/, 'no hit is dumped as JSON')
  await cards.first().scrollIntoViewIfNeeded()
  await screenshot(page, 'instantsearch-product-cards')

  // Custom thumbs (the widget's own exist only in agentId mode) post to the gateway.
  await assistant.nth(1).locator('.demo-thumb[data-vote="1"]').click()
  await assistant.nth(1).locator('.demo-voted', { hasText: 'Thanks' }).waitFor()
  const vote = standIn.store.feedback.at(-1)!
  t.match(vote, { userToken: 'carol', body: { vote: 1, agentId: config.policy.allowedAgentIds[0] } }, "Agent Studio got carol's vote")

  // Stop: hold the stream after a few events and press the prompt's stop button.
  let release = () => {}
  standIn.setBeforeEvent((index) =>
    index === 4
      ? new Promise<void>((resolve) => {
          release = resolve
        })
      : undefined
  )
  t.teardown(() => {
    standIn.setBeforeEvent(null)
    release()
  })
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
  const userMessages = page.locator('.ais-ChatMessage[data-role="user"]')
  await userMessages.nth(1).filter({ hasText: 'And to Iceland?' }).waitFor()
  t.match(await userMessages.first().textContent(), /Do you ship to Norway\?/, 'opening it shows the stored conversation again')
  t.equal(await assistant.nth(1).locator('.demo-voted', { hasText: 'Thanks' }).count(), 1, "with carol's vote")
  const storedCount = await page.locator('.ais-ChatMessage').count()
  await ask('One more question')
  const continued = completionsReceived()
    .filter((r) => r.userToken?.sub === 'carol')
    .at(-1)!.body as { id: string; messages: unknown[] }
  t.equal(continued.id, firstBody.id, 'a message after opening continues that conversation')
  t.equal(continued.messages.length, storedCount + 1, 'with the opened history')
  await item.first().locator('.history-delete').click()
  await page.locator('#history-list li', { hasText: 'No conversations yet.' }).waitFor()
  t.ok(
    standIn.received.some((r) => r.method === 'DELETE' && r.path.includes('/conversations/')),
    'the delete reached Agent Studio'
  )

  await traffic.settled()
  await assertNoAlgoliaCredential(t, traffic.exchanges, page)
  t.same(errors, [], 'no uncaught error in the page')
})

t.test(
  "the InstantSearch chat widget shows each failure once, in the gateway's words, with what to do: try again (5xx), wait (429), sign in again as the same user (401)",
  async (t) => {
    const context = await newContext(browser, t)
    const traffic = recordTraffic(context)
    const page = await context.newPage()
    await page.goto(`${address}/demo/login?user=erin&next=/demo/instantsearch`)
    await page.locator('#history-list[data-state="ready"]').waitFor({ state: 'attached' })
    const prompt = page.locator('.ais-ChatPrompt-textarea')
    const idle = () => page.locator('.ais-ChatPrompt-submit[data-status="error"], .ais-ChatPrompt-submit[data-status="ready"]').waitFor({ state: 'attached' })
    const send = async (text: string) => {
      await idle()
      await prompt.fill(text)
      await prompt.press('Enter')
    }
    const failure = page.locator('.demo-error')

    // 5xx: Agent Studio fails; the gateway says 502 upstream_error.
    standIn.setFault({ kind: 'status', status: 500 })
    t.teardown(() => standIn.setFault(null))
    await send('Is it raining?')
    await failure.waitFor()
    t.equal(await failure.getAttribute('data-action'), 'retry')
    t.equal(await failure.locator('.demo-error-text').textContent(), 'Agent Studio failed to answer; try again shortly.', "the gateway's own message")
    t.equal(await failure.locator('button.demo-error-action').textContent(), 'Try again')
    await oneErrorMessage(t, page)
    await failure.scrollIntoViewIfNeeded()
    await screenshot(page, 'instantsearch-error-5xx')
    standIn.setFault(null)
    await failure.locator('button.demo-error-action').click()
    await page.locator('.ais-ChatMessage[data-role="assistant"]').filter({ hasText: 'Is it raining?' }).filter({ hasText: 'through the gateway.' }).waitFor()
    t.equal(await failure.count(), 0, '"Try again" asked again, and the answer replaced the error')

    // 429: the wait, in seconds from the response's retry-after.
    const restore = limitCompletions(1)
    t.teardown(restore)
    await send('too fast')
    await page.locator('.demo-error[data-code="rate_limited"]').waitFor()
    const retryAfter = await retryAfterOfLastRefusal(traffic)
    t.match(retryAfter, /^\d+$/, 'the gateway sent retry-after')
    t.match(await failure.locator('.demo-error-text').textContent(), /^Too many requests; retry in \d+ seconds\.$/, "the gateway's own message")
    t.match(await failure.locator('.demo-error-hint').textContent(), new RegExp(`^Wait ${retryAfter} seconds before sending again\\.`), 'and the wait')
    await oneErrorMessage(t, page)
    restore()

    // 401: the session is gone; sign in again as erin (not as alice).
    await context.clearCookies()
    await send('still there?')
    await page.locator('.demo-error[data-action="sign-in"]').waitFor()
    t.equal(await failure.locator('.demo-error-text').textContent(), 'Sign in first: this request carries no session.', "the gateway's own message")
    const again = failure.locator('a.demo-error-action')
    t.equal(await again.getAttribute('href'), '/demo/login?user=erin&next=%2Fdemo%2Finstantsearch', '"Sign in again" signs in as the same user')
    await oneErrorMessage(t, page)
    await failure.scrollIntoViewIfNeeded()
    await screenshot(page, 'instantsearch-error-401')
    await again.click()
    await page.waitForURL(`${address}/demo/instantsearch`)
    t.equal(await page.getAttribute('#who', 'data-user'), 'erin', 'signed in again as erin')
  }
)

t.test('AI SDK useChat: resume probe, two turns, thumbs, a reload mid-stream that keeps the conversation, history, stop, regenerate', async (t) => {
  const context = await newContext(browser, t)
  const traffic = recordTraffic(context)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  await page.goto(`${address}/demo/login?user=dave&next=/demo/use-chat`)
  await page.locator('#app[data-state="ready"]').waitFor()
  t.equal(await page.getAttribute('#who', 'data-user'), 'dave', 'the page names the signed-in user')
  await page.locator('#status[data-status="ready"]').waitFor({ state: 'attached' })
  const probe = traffic.exchanges.find((e) => /\/completions\/[^/]+\/stream/.test(e.url))
  t.ok(probe, 'useChat({ resume: true }) probed for a stream to resume')
  t.equal(await page.locator('#error').count(), 0, "the gateway's 204 leaves the page without an error")
  await page.locator('#history[data-state="ready"] .history-empty').waitFor()

  const answers = page.locator('#messages li.assistant')
  const done = page.locator('#messages li.assistant[data-done]')
  const ask = async (text: string) => {
    await page.fill('#question', text)
    await page.click('#send')
  }
  await ask('First question')
  await done.nth(0).filter({ hasText: 'through the gateway.' }).waitFor()
  await ask('Second question')
  await done.nth(1).filter({ hasText: 'through the gateway.' }).waitFor()
  const daves = () =>
    completionsReceived()
      .filter((r) => r.userToken?.sub === 'dave')
      .map((r) => r.body as { id: string; trigger?: string; messages: unknown[] })
  t.equal(daves()[1]!.id, daves()[0]!.id, 'both turns in one conversation')
  const chatId = (await page.evaluate('sessionStorage.getItem("demo-chat-id")')) as string

  // Thumbs: the gateway's feedback route.
  await answers.nth(0).locator('.thumb[data-vote="1"]').click()
  await answers.nth(0).locator('.voted[data-vote="1"]').waitFor()
  t.match(
    standIn.store.feedback.at(-1),
    { userToken: 'dave', body: { messageId: await answers.nth(0).getAttribute('data-message-id'), vote: 1, agentId: config.policy.allowedAgentIds[0] } },
    "Agent Studio got dave's vote for that answer"
  )

  // The history panel lists the conversation once an answer is done.
  const listed = page.locator('#history li[data-id]')
  await listed.filter({ hasText: 'First question' }).waitFor()
  t.equal(await listed.first().getAttribute('data-id'), chatId, "under the page's own conversation id")

  // A reload in the middle of an answer: the page comes back with the conversation.
  let release = () => {}
  standIn.setBeforeEvent((index) =>
    index === 4
      ? new Promise<void>((resolve) => {
          release = resolve
        })
      : undefined
  )
  t.teardown(() => {
    standIn.setBeforeEvent(null)
    release()
  })
  await noOpenStreams()
  const cut = new Promise<{ early: boolean }>((resolve) => standIn.events.once('stream-closed', resolve))
  await ask('Third question, cut by a reload')
  await page.locator('#status[data-status="streaming"]').waitFor({ state: 'attached' })
  await page.reload()
  t.equal((await cut).early, true, 'the reload ended the upstream stream')
  standIn.setBeforeEvent(null)
  release()
  await page.locator('#app[data-state="ready"]').waitFor()
  const restored = await page.locator('#messages li').evaluateAll((items) =>
    items.map((item) => {
      const li = item as unknown as { className: string; textContent: string | null }
      return [li.className, li.textContent ?? '']
    })
  )
  t.equal(restored.length, 5, 'two turns and the question whose answer was cut off')
  t.match(
    restored,
    [
      ['user', /First question/],
      ['assistant', /You asked: "First question"/],
      ['user', /Second question/],
      ['assistant', /You asked: "Second question"/],
      ['user', /Third question/]
    ],
    'in order'
  )
  t.ok(
    traffic.exchanges.some(
      (e) =>
        e.method === 'GET' &&
        e.status === 200 &&
        new URL(e.url).pathname === `/agent-studio/1/agents/${config.policy.allowedAgentIds[0]}/conversations/${chatId}`
    ),
    "loaded through the gateway's conversation route"
  )
  t.equal(await answers.nth(0).locator('.voted[data-vote="1"]').count(), 1, "with dave's vote")
  t.equal(await page.locator('#interrupted').count(), 1, 'the page says the last answer was interrupted')
  await page.locator('#history[data-state="ready"] li[data-id]').first().waitFor()
  await screenshot(page, 'use-chat-restored-after-reload')
  await page.click('#interrupted button')
  await done.nth(2).filter({ hasText: 'Third question' }).filter({ hasText: 'through the gateway.' }).waitFor()
  t.equal(daves().at(-1)!.trigger, 'regenerate-message', '"Ask again" regenerates the answer')

  // History: a new conversation, open the first again, delete it.
  await page.click('#new-chat')
  await page.locator('#messages li').first().waitFor({ state: 'detached' })
  await ask('A new topic')
  await done.nth(0).filter({ hasText: 'A new topic' }).waitFor()
  await listed.filter({ hasText: 'A new topic' }).waitFor()
  t.same((await listed.locator('.history-open').allTextContents()).sort(), ['A new topic', 'First question'], 'both conversations listed')
  await listed.filter({ hasText: 'First question' }).locator('.history-open').click()
  await page.locator('#messages li.user', { hasText: 'First question' }).waitFor()
  t.equal(await page.locator('#messages li').count(), 6, 'opening it shows all of it again')
  await listed.filter({ hasText: 'First question' }).locator('.history-delete').click()
  await listed.filter({ hasText: 'First question' }).waitFor({ state: 'detached' })
  t.ok(
    standIn.received.some((r) => r.method === 'DELETE' && r.path.includes('/conversations/') && r.userToken === undefined),
    'the delete reached Agent Studio'
  )
  t.equal(await page.locator('#messages li').count(), 0, 'deleting the open conversation starts a new one')

  // Stop: hold the stream after a few events, press Stop, and Agent Studio sees the call end.
  standIn.setBeforeEvent((index) =>
    index === 4
      ? new Promise<void>((resolve) => {
          release = resolve
        })
      : undefined
  )
  await noOpenStreams()
  const closed = new Promise<{ early: boolean }>((resolve) => standIn.events.once('stream-closed', resolve))
  await ask('Please stop me')
  await page.locator('#status[data-status="streaming"]').waitFor({ state: 'attached' })
  await page.click('#stop')
  await page.locator('#status[data-status="ready"]').waitFor({ state: 'attached' })
  t.equal((await closed).early, true, 'stopping in the browser ended the upstream stream early')
  standIn.setBeforeEvent(null)
  release()

  // Regenerate: the same history again, marked as a regeneration.
  const before = await answers.count()
  await page.click('#regenerate')
  await done.last().filter({ hasText: 'Please stop me' }).filter({ hasText: 'through the gateway.' }).waitFor()
  t.equal(await answers.count(), before, 'the last answer was replaced, not added')
  t.equal(daves().at(-1)!.trigger, 'regenerate-message')

  await traffic.settled()
  await assertNoAlgoliaCredential(t, traffic.exchanges, page)
  t.same(errors, [], 'no uncaught error in the page')
})

t.test(
  "AI SDK useChat shows each failure once, in the gateway's words, with what to do: try again (5xx, broken stream), sign in again as the same user (401), wait (429)",
  async (t) => {
    const context = await newContext(browser, t)
    const traffic = recordTraffic(context)
    const page = await context.newPage()
    await page.goto(`${address}/demo/login?user=frank&next=/demo/use-chat`)
    await page.locator('#app[data-state="ready"]').waitFor()
    const done = page.locator('#messages li.assistant[data-done]')
    const error = page.locator('#error')
    const ask = async (text: string) => {
      await page.fill('#question', text)
      await page.click('#send')
    }
    await ask('Hello')
    await done.nth(0).filter({ hasText: 'through the gateway.' }).waitFor()

    // 5xx before the stream: the gateway's message and "Try again".
    standIn.setFault({ kind: 'status', status: 500 })
    t.teardown(() => standIn.setFault(null))
    await ask('Is it raining?')
    await page.locator('#error[data-action="retry"]').waitFor()
    t.equal(await error.getAttribute('data-code'), 'upstream_error')
    t.equal(await error.locator('.problem-text').textContent(), 'Agent Studio failed to answer; try again shortly.', "the gateway's own message")
    t.equal(await page.locator('[role=alert]').count(), 1, 'one message for one failure')
    await screenshot(page, 'use-chat-error-5xx')
    standIn.setFault(null)
    await error.locator('button.retry').click()
    await done.nth(1).filter({ hasText: 'Is it raining?' }).filter({ hasText: 'through the gateway.' }).waitFor()
    t.equal(await error.count(), 0, '"Try again" asked again and the answer came')

    // A stream that breaks after it started: the error event's text, and "Try again".
    await ask('[cut] now')
    await page.locator('#error[data-action="retry"]').waitFor()
    t.equal(
      await error.locator('.problem-text').textContent(),
      'The answer was interrupted before it finished. Please try again.',
      "the gateway's words, from the stream's error event"
    )
    await error.locator('button.dismiss').click()

    // 401: sign in again, as frank, and the conversation is back.
    await context.clearCookies()
    await ask('still there?')
    await page.locator('#error[data-action="sign-in"]').waitFor()
    t.equal(await error.locator('.problem-text').textContent(), 'Sign in first: this request carries no session.', "the gateway's own message")
    const again = error.locator('a')
    t.equal(await again.getAttribute('href'), '/demo/login?user=frank&next=%2Fdemo%2Fuse-chat', '"Sign in again" signs in as the same user')
    await again.click()
    await page.waitForURL(`${address}/demo/use-chat`)
    await page.locator('#app[data-state="ready"]').waitFor()
    t.equal(await page.getAttribute('#who', 'data-user'), 'frank', 'signed in again as frank')
    t.match(
      await page.locator('#messages li').allTextContents(),
      [/Hello/, /You asked: "Hello"/, /Is it raining\?/, /You asked: "Is it raining\?"/],
      'with the conversation restored'
    )

    // 429 with the wait from retry-after: Send stays disabled.
    const restore = limitCompletions(1)
    t.teardown(restore)
    await ask('too fast')
    await page.locator('#error[data-action="wait"][data-code="rate_limited"]').waitFor()
    const retryAfter = await retryAfterOfLastRefusal(traffic)
    t.match(retryAfter, /^\d+$/, 'the gateway sent retry-after')
    t.match(await error.locator('.problem-text').textContent(), /^Too many requests; retry in \d+ seconds\.$/, "the gateway's own message")
    t.equal(await error.locator('.problem-hint').textContent(), `Wait ${retryAfter} seconds before sending again.`, 'and the wait')
    await page.fill('#question', 'and now?')
    t.ok(await page.locator('#send').isDisabled(), 'Send waits for the retry-after')
    await screenshot(page, 'use-chat-error-429')
    restore()
  }
)
