import { SignJWT } from 'jose'
import type { JWTPayload } from 'jose'
import { Agent, request } from 'undici'
import type { Test } from 'tap'
import { createStandIn } from '../src/standin.js'
import type { StandIn, StandInOptions } from '../src/standin.js'

/**
 * Tests of the stand-in itself: they call it directly over real sockets, as the gateway does,
 * with Agent Studio's own headers. No gateway in between, so what they pin is the stand-in's
 * contract with its clients (the definition of Agent Studio every other test trusts).
 */

/** The application the stand-in serves in these tests, and its agents. */
export const TEST_KEYS = {
  appId: 'TESTAPP01',
  apiKey: 'test-agent-api-key-4f1d2c',
  searchKey: 'test-search-only-key-9a8b7c',
  keyId: 'test-kid-1',
  secretKey: 'sk-alg-test-secret-for-unit-tests-only'
} as const
export const AGENT_ID = 'agent-1'

/** A stand-in on a free loopback port, closed when the test ends. */
export async function startStandIn(t: Pick<Test, 'teardown'>, options: Partial<StandInOptions> = {}): Promise<{ standIn: StandIn; url: URL }> {
  const standIn = createStandIn({
    appId: TEST_KEYS.appId,
    apiKeys: new Map([
      [TEST_KEYS.apiKey, ['search', 'logs']],
      [TEST_KEYS.searchKey, ['search']]
    ]),
    keyDetails: new Map([[TEST_KEYS.searchKey, { maxQueriesPerIPPerHour: 500, referers: ['https://app.example.com/*'] }]]),
    authenticationKeys: new Map([[TEST_KEYS.keyId, TEST_KEYS.secretKey]]),
    agents: [AGENT_ID, 'agent-2'],
    ...options
  })
  const url = await standIn.listen()
  t.teardown(() => standIn.close())
  return { standIn, url }
}

export const APP_HEADERS = { 'x-algolia-application-id': TEST_KEYS.appId, 'x-algolia-api-key': TEST_KEYS.apiKey } as const

export interface UserTokenOptions {
  /** `null`: no `kid` header. */
  readonly kid?: string | null
  readonly secret?: string
  /** A relative time (`'1h'`) or unix seconds; `null`: no `exp` claim. */
  readonly expiresIn?: string | number | null
  readonly alg?: string
  readonly claims?: JWTPayload
}

/** An `X-Algolia-Secure-User-Token` as the gateway mints it (HS256, `kid`, `sub`, `exp`). */
export function userToken(sub: string | undefined, options: UserTokenOptions = {}): Promise<string> {
  const kid = options.kid === undefined ? TEST_KEYS.keyId : options.kid
  const jwt = new SignJWT({ ...(sub === undefined ? {} : { sub }), ...options.claims })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', ...(kid === null ? {} : { kid }) })
    .setIssuedAt()
  if (options.expiresIn !== null) jwt.setExpirationTime(options.expiresIn ?? '1h')
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_KEYS.secretKey))
}

export interface CallOptions {
  /** Headers sent instead of the app id and API key (`{}`: none at all). */
  readonly credentials?: Record<string, string>
  /** The `sub` of a user token to send, or a token as it is. */
  readonly user?: string
  readonly token?: string
  readonly body?: unknown
  readonly headers?: Record<string, string>
}

export interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
  /** The body parsed as JSON, typed as the test expects it. */
  json<T = Record<string, unknown>>(): T
}

export interface SharedStandIn {
  readonly standIn: StandIn
  /** The Agent Studio base URL (`…/agent-studio`). */
  readonly url: URL
  /** `method path` relative to the base URL, e.g. `call('GET', '/1/agents/agent-1/conversations')`. */
  call(method: string, path: string, options?: CallOptions): Promise<Answer>
}

/** One stand-in for a whole test file, started before its first test and closed when the file ends. */
export function sharedStandIn(t: Test, options: Partial<StandInOptions> = {}): SharedStandIn {
  let started: { standIn: StandIn; url: URL } | undefined
  const client = new Agent({ connections: 16 })
  t.before(async () => {
    started = await startStandIn(t, options)
  })
  t.teardown(() => client.close())
  const get = () => {
    if (started === undefined) throw new Error('the stand-in starts in t.before')
    return started
  }
  return {
    get standIn() {
      return get().standIn
    },
    get url() {
      return get().url
    },
    async call(method, path, callOptions = {}) {
      const headers: Record<string, string> = { ...(callOptions.credentials ?? APP_HEADERS), ...callOptions.headers }
      const token = callOptions.token ?? (callOptions.user === undefined ? undefined : await userToken(callOptions.user))
      if (token !== undefined) headers['x-algolia-secure-user-token'] = token
      if (callOptions.body !== undefined) headers['content-type'] = 'application/json'
      const response = await request(`${get().url.href}${path}`, {
        method: method as 'GET',
        dispatcher: client,
        headers,
        ...(callOptions.body === undefined ? {} : { body: typeof callOptions.body === 'string' ? callOptions.body : JSON.stringify(callOptions.body) })
      })
      const text = await response.body.text()
      return { status: response.statusCode, headers: response.headers, text, json: <T>() => JSON.parse(text) as T }
    }
  }
}

/** The `data:` payloads of an SSE body, in order (`[DONE]` kept as the string). */
export function sseData(body: string): unknown[] {
  if (!body.endsWith('\n\n')) throw new Error('an SSE body ends with a blank line')
  return body
    .slice(0, -2)
    .split('\n\n')
    .map((event) => {
      if (!event.startsWith('data: ') || event.includes('\n')) throw new Error(`not a single-line data event: ${event.slice(0, 40)}`)
      const data = event.slice('data: '.length)
      return data === '[DONE]' ? data : JSON.parse(data)
    })
}
