import t from 'tap'
import { buildUpstreamRequestHeaders, filterUpstreamResponseHeaders } from '../src/credentials/header-boundary.js'

const credentials = { appId: 'APP', apiKey: 'gateway-key', userToken: 'minted.jwt.token' }
const injected = {
  'content-type': 'application/json',
  'x-algolia-application-id': 'APP',
  'x-algolia-api-key': 'gateway-key',
  'x-algolia-secure-user-token': 'minted.jwt.token'
}

const requestCases: Array<{ name: string; client: Record<string, string>; expected: Record<string, string> }> = [
  {
    name: 'harmless negotiation headers pass, credentials are the gateway\'s',
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
    client: { connection: 'keep-alive', 'keep-alive': 'timeout=5', te: 'trailers', upgrade: 'websocket', 'transfer-encoding': 'chunked', host: 'evil.example', 'content-length': '99', 'x-forwarded-for': '1.2.3.4' },
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
    'content-length': '42'
  }
  t.same(filterUpstreamResponseHeaders(upstream), {
    'content-type': 'text/event-stream',
    'x-vercel-ai-ui-message-stream': 'v1',
    'x-vercel-ai-data-stream': 'v1',
    'retry-after': '3'
  }, 'content-length stays behind: the gateway frames what it relays')
})

t.test('a call without a body carries no content-type, and a key-only call no user token', async (t) => {
  t.same(buildUpstreamRequestHeaders({ 'x-algolia-secure-user-token': 'forged', 'content-type': 'application/json' }, { appId: 'APP', apiKey: 'gateway-key', userToken: undefined }, false), {
    'x-algolia-application-id': 'APP',
    'x-algolia-api-key': 'gateway-key'
  })
})
