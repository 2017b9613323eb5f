import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, Page, Request, Response } from 'playwright-core'

/** Debian's Chromium (never a downloaded browser). */
const CHROMIUM = '/usr/bin/chromium'

interface Teardown {
  teardown(fn: () => unknown): void
}

/**
 * One headless Chromium per test file. No request interception (it would answer CORS
 * preflights itself, see STYLE.md): outside hosts are cut off by the resolver instead, and
 * `*.test` names (the examples' sites) resolve to this machine.
 */
export async function launchBrowser(t: Teardown): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'
    ]
  })
  t.teardown(() => browser.close())
  return browser
}

/**
 * A fresh context whose waits have no timeout of their own. Every wait in these tests is on
 * the page's own signal (an element, a `data-state`, a text the page shows when it is done), so
 * a loaded machine only makes it later, never wrong; a fixed Playwright timeout made `npm test`
 * fail on a busy machine (issue 19: a 20 s wait at load average 3-9). The backstop for a page
 * that never signals is tap's own timeout for the file (`--timeout`, 300 s in `npm test`).
 * To debug a hang, BROWSER_WAIT_MS=15000 makes each wait fail by itself, naming its locator.
 */
export async function newContext(browser: Browser, t: Teardown, options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
  const context = await browser.newContext(options)
  context.setDefaultTimeout(Number(process.env.BROWSER_WAIT_MS ?? 0))
  t.teardown(() => context.close())
  return context
}

/**
 * Saves a PNG of the page as `<name>.png` in the folder named by DEMO_SCREENSHOTS, when set
 * (`DEMO_SCREENSHOTS=/tmp/shots npx tap …`), so a person can look at what the test saw.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const folder = process.env.DEMO_SCREENSHOTS
  if (folder === undefined || folder === '') return
  mkdirSync(folder, { recursive: true })
  writeFileSync(join(folder, `${name}.png`), await page.screenshot({ fullPage: true }))
}

export interface Exchange {
  readonly url: string
  readonly method: string
  requestHeaders: Record<string, string>
  readonly postData: string | null
  status?: number
  responseHeaders?: Record<string, string>
  responseBody?: string
}

/** Records every request and response of a context (headers and bodies) without intercepting. */
export function recordTraffic(context: BrowserContext): { exchanges: Exchange[]; settled(): Promise<void> } {
  const exchanges: Exchange[] = []
  const pending: Array<Promise<unknown>> = []
  const byRequest = new Map<Request, Exchange>()
  context.on('request', (request) => {
    const exchange: Exchange = { url: request.url(), method: request.method(), requestHeaders: request.headers(), postData: request.postData() }
    byRequest.set(request, exchange)
    exchanges.push(exchange)
    // headers() leaves out cookie and the like; allHeaders() has what went on the wire.
    pending.push(
      request.allHeaders().then(
        (headers) => {
          exchange.requestHeaders = headers
        },
        () => undefined
      )
    )
  })
  context.on('response', (response: Response) => {
    const exchange = byRequest.get(response.request())
    if (exchange === undefined) return
    exchange.status = response.status()
    pending.push(
      response.allHeaders().then((headers) => {
        exchange.responseHeaders = headers
      })
    )
  })
  // Bodies only of requests that finished: a stopped stream's body never completes.
  context.on('requestfinished', (request) => {
    const exchange = byRequest.get(request)
    if (exchange === undefined) return
    pending.push(
      request
        .response()
        .then((response) => response?.text())
        .then(
          (text) => {
            exchange.responseBody = text
          },
          () => undefined
        )
    )
  })
  return { exchanges, settled: () => Promise.all(pending).then(() => undefined) }
}

/** Everything a page could hold: cookies, localStorage, sessionStorage. */
export async function pageStorage(page: Page): Promise<string> {
  const cookies = await page.context().cookies()
  const storage = (await page.evaluate('JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } })')) as string
  return JSON.stringify(cookies) + storage
}
