// @test-process: alone (tracing on (TRACING_ENABLED): the tracer provider and context manager are process-wide)
import t from 'tap'
import { Agent } from 'undici'
import type { Dispatcher } from 'undici'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { AGENT_ID, APP_ORIGIN, TEST_KEYS, completionBody, sessionToken } from '../helpers/fixtures.js'
import { SPAN_ATTRIBUTES } from '../../src/tracing/span-allow-list.js'
import { readFileSync } from 'node:fs'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { postCompletion, waitFor } from '../helpers/requests.js'

// One traced gateway for the whole file (tracing is process-wide state: one provider, one
// context manager), spans captured in memory as each one ends.
const { standIn, url } = await startStandIn(t)
const exporter = new InMemorySpanExporter()
// Load shedding off: on a busy machine a 503 overloaded would be a different trace than the one under test.
// The test's own connections come from 127.0.0.1, the trusted proxy; a client bound to
// 127.0.0.2 (loopback too, on Linux) is any other peer.
const gateway = await startGateway(t, url, {
  env: { TRACING_ENABLED: 'true', TRUSTED_PROXIES: '127.0.0.1', MAX_EVENT_LOOP_DELAY_MS: '0' },
  deps: { spanExporter: exporter }
})
const client = testClient(t)
const untrustedPeer = new Agent({ localAddress: '127.0.0.2' })
t.teardown(() => untrustedPeer.close())

const BROWSER_TRACE = '0af7651916cd43dd8448eb211c80319c'
const BROWSER_SPAN = 'b7ad6b7169203331'
const traceparent = (trace = BROWSER_TRACE) => `00-${trace}-${BROWSER_SPAN}-01`

/** Sends one completion and returns its summary line and every span of its trace, once the root span has ended. */
async function traced(headers: Record<string, string>, body = completionBody(), dispatcher: Dispatcher = client) {
  exporter.reset()
  const before = gateway.logs.requests.length
  const response = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher,
    headers: { authorization: `Bearer ${await sessionToken('trace-user')}`, ...headers },
    body
  })
  await response.body.text()
  await waitFor(() => gateway.logs.requests.length === before + 1)
  await waitFor(() => exporter.getFinishedSpans().some((span) => span.name === 'request'))
  const root = exporter.getFinishedSpans().find((span) => span.name === 'request')!
  const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === root.spanContext().traceId)
  return { line: gateway.logs.requests.at(-1)!, root, spans }
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId
const named = (spans: ReadableSpan[], name: string) => {
  const found = spans.filter((span) => span.name === name)
  if (found.length !== 1) throw new Error(`expected one span named ${name}, got ${found.length} among ${spans.map((s) => s.name).join(', ')}`)
  return found[0]!
}

t.test(
  "a completion relayed by a trusted proxy is one trace under the proxy's span: session, limits, handler, and the upstream call with its first byte",
  async (t) => {
    const { line, root, spans } = await traced({ origin: APP_ORIGIN, traceparent: traceparent() })

    t.equal(root.spanContext().traceId, BROWSER_TRACE, "the proxy's trace continues")
    t.equal(parentOf(root), BROWSER_SPAN, "the request span is the child of the proxy's span")
    t.equal(root.attributes['http.route'], '/agent-studio/1/agents/:agentId/completions')
    t.equal(root.attributes['http.response.status_code'], 200, "the streamed answer's span ends with its status")
    t.equal(line.traceId, BROWSER_TRACE, 'the summary line names the trace, so logs and traces join')

    const session = named(spans, 'onRequest - session')
    const limits = named(spans, 'onRequest - admission')
    const handler = named(spans, 'handler - handler')
    for (const span of [session, limits, handler]) t.equal(parentOf(span), root.spanContext().spanId, `${span.name} is a child of the request span`)
    // [seconds, nanoseconds] compared as a pair: seconds * 1e9 is past 2^53 and loses nanoseconds.
    const notAfter = (a: readonly [number, number], b: readonly [number, number]) => a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1])
    // Starts, not end-versus-start: the instrumentation may close a hook's span a tick after the next hook began.
    t.ok(
      notAfter(session.startTime, limits.startTime) && notAfter(limits.startTime, handler.startTime),
      'the session is checked before the limits, the limits before the handler'
    )

    const upstream = named(spans, 'POST')
    t.equal(parentOf(upstream), handler.spanContext().spanId, 'the upstream call is a child of the handler')
    t.equal(upstream.attributes['http.response.status_code'], 200)
    t.equal(upstream.attributes['url.path'], '/agent-studio/1/agents/agent-1/completions')
    t.type(upstream.attributes['gateway.upstream.ttfb_ms'], 'number', 'time to first byte is on the upstream span')
    t.same(
      upstream.events.map((event) => event.name),
      ['first byte']
    )
    t.equal(standIn.received.at(-1)!.headers.traceparent, undefined, 'no trace header reaches Agent Studio behind the header boundary')
  }
)

t.test('a traceparent from any peer but a trusted proxy starts a new trace, whatever Origin it claims', async (t) => {
  // Issue 19.7: trust followed the Origin header, which any non-browser client sets at will.
  for (const headers of [
    { origin: APP_ORIGIN, traceparent: traceparent() },
    { origin: 'https://evil.example', traceparent: traceparent() },
    { traceparent: traceparent() }
  ] as Array<Record<string, string>>) {
    const { line, root } = await traced(headers, completionBody(), untrustedPeer)
    t.not(root.spanContext().traceId, BROWSER_TRACE, `not continued: ${headers.origin ?? 'no origin'}`)
    t.equal(parentOf(root), undefined, 'the request span is a root')
    t.equal(line.traceId, root.spanContext().traceId, 'the line names the new trace')
  }
})

t.test('spans carry only the attributes docs/operations.md lists: no query string, User-Agent or user id in any path', async (t) => {
  const { spans } = await traced({ origin: APP_ORIGIN, 'user-agent': 'Mozilla/5.0 (UniqueAgent/9.9)' })
  const token = await sessionToken('erased-user-id')
  const erasure = await client.request({
    origin: gateway.url,
    path: '/agent-studio/1/user-data/me',
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}`, 'user-agent': 'Mozilla/5.0 (UniqueAgent/9.9)' }
  })
  await erasure.body.dump()
  t.equal(erasure.statusCode, 200, 'the erasure ran (its upstream calls name the user)')
  await waitFor(() => exporter.getFinishedSpans().some((span) => span.name === 'request' && span.attributes['http.route'] === '/agent-studio/1/user-data/me'))
  const all = exporter.getFinishedSpans()
  t.ok(all.length > spans.length)
  const keys = new Set(all.flatMap((span) => Object.keys(span.attributes)))
  t.same(
    [...keys].filter((key) => !SPAN_ATTRIBUTES.has(key)),
    [],
    'no attribute outside the allow-list'
  )
  const text = JSON.stringify(all.map((span) => ({ name: span.name, attributes: span.attributes, events: span.events, status: span.status })))
  t.notMatch(text, /compatibilityMode|\?/, 'no query string')
  t.notMatch(text, /UniqueAgent/, 'no User-Agent')
  t.notMatch(text, /erased-user-id/, "no user id, not even in the erasure's upstream paths")
  const paths = all.map((span) => span.attributes['url.path']).filter((path) => path !== undefined)
  t.ok(paths.includes('/agent-studio/1/user-data/{userToken}'), 'the upstream erasure path is a template')
  t.ok(paths.includes(`/agent-studio/1/agents/${AGENT_ID}/completions`))
  const operations = readFileSync('docs/operations.md', 'utf8')
  const start = operations.indexOf('\n## Tracing\n')
  t.ok(start !== -1, 'docs/operations.md has a Tracing section')
  const tracing = operations.slice(start, operations.indexOf('\n## ', start + 5))
  // Issue 24: the GenAI usage attributes are documented with the rest of usage accounting.
  const governance = readFileSync('docs/usage-and-governance.md', 'utf8')
  for (const key of SPAN_ATTRIBUTES)
    t.match(key.startsWith('gen_ai.') ? governance : tracing, `\`${key}\``, `docs/operations.md (or docs/usage-and-governance.md) lists ${key}`)
})

t.test('no secret, token, cookie, session, user id or message content reaches any span', async (t) => {
  const cookieToken = await sessionToken('secret-keeper')
  const ok = await traced(
    { origin: APP_ORIGIN, cookie: `session=${cookieToken}`, traceparent: traceparent('1af7651916cd43dd8448eb211c80319c') },
    completionBody('my private medical question')
  )
  standIn.setFault({ kind: 'status', status: 500 })
  t.teardown(() => standIn.setFault(null))
  const failed = await traced({ origin: APP_ORIGIN }, completionBody('another private question'))
  t.equal(failed.line.status, 502, 'the failure was traced too')

  const minted = String(standIn.received.at(-1)!.headers['x-algolia-secure-user-token'])
  const text = JSON.stringify(
    [...ok.spans, ...failed.spans].map((span) => ({
      name: span.name,
      attributes: span.attributes,
      events: span.events,
      status: span.status,
      links: span.links
    }))
  )
  for (const [what, secret] of [
    ['the API key', TEST_KEYS.apiKey],
    ['the authentication key', TEST_KEYS.secretKey],
    ['the session secret', TEST_KEYS.sessionSecret],
    ['the cookie session token', cookieToken],
    ['the minted user token', minted],
    ['the message content', 'private'],
    ['the user id', 'secret-keeper'],
    ['the other user id', 'trace-user'],
    ['the app id header value', 'x-algolia']
  ] as const)
    t.notOk(text.includes(secret), `no ${what} in any span`)
})

t.test('when spans cannot be exported, the log says so and requests are unaffected', async (t) => {
  // Last in this file: a stopped exporter refuses every export from now on.
  await exporter.shutdown()
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user: 'after-exporter-stopped' })
  await response.body.text()
  t.equal(response.statusCode, 200, 'the request is served')
  await waitFor(() => gateway.logs.lines.some((line) => String(line.msg).startsWith('OpenTelemetry: ')))
  const line = gateway.logs.lines.find((l) => String(l.msg).startsWith('OpenTelemetry: '))!
  t.equal(line.level, 40, 'a warning')
  t.match(line.msg, /stopped/, "with OpenTelemetry's reason")
})
