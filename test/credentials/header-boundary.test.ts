import t from 'tap'
import {
  KNOWN_ALGOLIA_REFERERS,
  buildUpstreamRequestHeaders,
  filterUpstreamResponseHeaders,
  validAlgoliaReferer
} from '../../src/credentials/header-boundary.js'

const credentials = { appId: 'APP', apiKey: 'gateway-key', userToken: 'minted.jwt.token' }
const injected = {
  'content-type': 'application/json',
  'x-algolia-application-id': 'APP',
  'x-algolia-api-key': 'gateway-key',
  'x-algolia-secure-user-token': 'minted.jwt.token'
}

const requestCases: Array<{ name: string; client: Record<string, string>; expected: Record<string, string> }> = [
  {
    name: "harmless negotiation headers pass, credentials are the gateway's",
    client: { accept: 'text/event-stream', 'accept-language': 'fr', 'user-agent': 'Mozilla/5.0' },
    expected: { accept: 'text/event-stream', 'accept-language': 'fr', 'user-agent': 'Mozilla/5.0', ...injected }
  },
  {
    name: 'cookie and authorization never pass',
    client: { cookie: 'session=abc', authorization: 'Bearer abc', 'proxy-authorization': 'Basic x' },
    expected: injected
  },
  {
    name: 'client x-algolia-* headers are replaced, never merged',
    client: {
      'x-algolia-api-key': 'browser-admin-key',
      'x-algolia-application-id': 'OTHERAPP',
      'x-algolia-secure-user-token': 'forged.token.here',
      'x-algolia-agent': 'evil',
      'x-algolia-user-id': 'someone-else'
    },
    expected: injected
  },
  {
    name: 'hop-by-hop and framing headers never pass',
    client: {
      connection: 'keep-alive',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      upgrade: 'websocket',
      'transfer-encoding': 'chunked',
      host: 'evil.example',
      'content-length': '99',
      'x-forwarded-for': '1.2.3.4'
    },
    expected: injected
  },
  {
    name: 'Connection naming the injected headers cannot remove them (RFC 9110 §7.6.1)',
    client: { connection: 'x-algolia-api-key, X-Algolia-Secure-User-Token, x-algolia-application-id, content-type' },
    expected: injected
  },
  {
    name: 'headers named in Connection are dropped even when otherwise forwarded',
    client: { connection: 'Accept-Language', 'accept-language': 'de', accept: '*/*' },
    expected: { accept: '*/*', ...injected }
  },
  {
    name: 'a client content-type is replaced by the one of the rebuilt JSON body',
    client: { 'content-type': 'application/json; charset=latin1; boundary=x' },
    expected: injected
  }
]

for (const { name, client, expected } of requestCases) {
  t.test(name, async (t) => {
    t.same(buildUpstreamRequestHeaders(client, credentials), expected)
  })
}

// Issue 23: the upstream Origin is configuration, x-algolia-referer a validated label.
const originCases: Array<{ name: string; client: Record<string, string>; origin: string | undefined; expected: Record<string, string> }> = [
  {
    name: "the browser's Origin and Referer never pass, with or without a configured upstream Origin",
    client: { origin: 'https://shop.example.com', referer: 'https://shop.example.com/cart' },
    origin: undefined,
    expected: injected
  },
  {
    name: 'the configured upstream Origin replaces whatever Origin the browser sent',
    client: { origin: 'https://evil.example', Origin: 'https://evil.example' },
    origin: 'https://shop.example.com',
    expected: { ...injected, origin: 'https://shop.example.com' }
  },
  {
    name: 'Connection naming origin cannot remove the configured one (RFC 9110 §7.6.1)',
    client: { connection: 'origin' },
    origin: 'https://shop.example.com',
    expected: { ...injected, origin: 'https://shop.example.com' }
  },
  {
    name: 'each documented x-algolia-referer passes as it is',
    client: { 'x-algolia-referer': 'prompt-suggestions-autocomplete' },
    origin: undefined,
    expected: { ...injected, 'x-algolia-referer': 'prompt-suggestions-autocomplete' }
  },
  {
    name: 'an x-algolia-referer that is not a short lower-case token is dropped (no free text, no CRLF, no URL)',
    client: { 'x-algolia-referer': 'https://evil.example/?q=my medical question' },
    origin: undefined,
    expected: injected
  },
  {
    name: 'an over-long x-algolia-referer is dropped',
    client: { 'x-algolia-referer': 'a'.repeat(49) },
    origin: undefined,
    expected: injected
  },
  {
    name: 'an x-algolia-referer named in Connection is dropped',
    client: { connection: 'X-Algolia-Referer', 'x-algolia-referer': 'ai-mode' },
    origin: undefined,
    expected: injected
  }
]

for (const { name, client, origin, expected } of originCases) {
  t.test(name, async (t) => {
    t.same(buildUpstreamRequestHeaders(client, credentials, true, { origin }), expected)
  })
}

t.test('x-algolia-referer: the documented values and short tokens pass, anything else does not', async (t) => {
  for (const value of KNOWN_ALGOLIA_REFERERS) t.equal(validAlgoliaReferer(value), value, value)
  t.equal(validAlgoliaReferer('my-widget-2'), 'my-widget-2')
  for (const value of ['', 'AI-Mode', '-x', 'a b', 'ai-mode\r\nx-algolia-api-key: k', 'a'.repeat(49)])
    t.equal(validAlgoliaReferer(value), undefined, JSON.stringify(value))
  t.equal(validAlgoliaReferer(['ai-mode', 'compare']), undefined, 'a repeated header is not one value')
})

t.test('upstream response headers: only the allow-list reaches the browser', async (t) => {
  const upstream = {
    'Content-Type': 'text/event-stream',
    'x-vercel-ai-ui-message-stream': 'v1',
    'x-vercel-ai-data-stream': 'v1',
    'set-cookie': ['algolia=1'],
    'x-algolia-api-key': 'echoed-key',
    'x-algolia-secure-user-token': 'echoed.token',
    connection: 'close',
    'transfer-encoding': 'chunked',
    'keep-alive': 'timeout=5',
    server: 'internal-proxy/1.2',
    'retry-after': '3',
    'content-length': '42',
    'X-Cache': 'HIT',
    'Cache-Status': 'AgentStudio; hit'
  }
  t.same(
    filterUpstreamResponseHeaders(upstream),
    {
      'content-type': 'text/event-stream',
      'x-vercel-ai-ui-message-stream': 'v1',
      'x-vercel-ai-data-stream': 'v1',
      'retry-after': '3',
      'x-cache': 'HIT',
      'cache-status': 'AgentStudio; hit'
    },
    'content-length stays behind: the gateway frames what it relays'
  )
})

t.test('a call without a body carries no content-type, and a key-only call no user token', async (t) => {
  t.same(
    buildUpstreamRequestHeaders(
      { 'x-algolia-secure-user-token': 'forged', 'content-type': 'application/json' },
      { appId: 'APP', apiKey: 'gateway-key', userToken: undefined },
      false
    ),
    {
      'x-algolia-application-id': 'APP',
      'x-algolia-api-key': 'gateway-key'
    }
  )
})
