import t from 'tap'
import { LOG_TEXT_MAX } from '../../src/logging/escape.js'
import type { Test } from 'tap'
import { loadConfig } from '../../src/config/load-config.js'
import { AGENT_ID, APP_ORIGIN, completionBody, gatewayEnv, sessionToken } from '../helpers/fixtures.js'
import { sharedGateways, startStandIn } from '../helpers/gateway.js'

// A browser enforces CORS silently (the page sees "Failed to fetch"); the gateway's log line
// must say which rule refused and what: the origin, the header or the method.
const path = `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`

// One stand-in and gateway per configuration for the whole file; each test gets them with no
// recorded requests and no log lines.
const gatewayFor = sharedGateways(t)

async function setup(_t: Test, env: Record<string, string> = {}) {
  const { standIn, gateway } = await gatewayFor(env)
  const preflight = (origin: string, method: string, headers?: string) =>
    gateway.app.inject({
      method: 'OPTIONS',
      url: path,
      headers: { origin, 'access-control-request-method': method, ...(headers === undefined ? {} : { 'access-control-request-headers': headers }) }
    })
  return { standIn, gateway, preflight }
}

t.test('CORS_ALLOWED_HEADERS replaces the request-header allow-list', async (t) => {
  const { preflight, gateway } = await setup(t, { CORS_ALLOWED_HEADERS: 'Content-Type, Authorization, X-Client-Version' })
  t.equal(gateway.config.policy.corsAllowedHeaders.join(), 'content-type,authorization,x-client-version', 'names are kept lower case')
  const response = await preflight(APP_ORIGIN, 'POST', 'content-type,x-client-version')
  t.equal(response.headers['access-control-allow-headers'], 'content-type, authorization, x-client-version')
  t.equal(gateway.logs.requests[0]!.cors, undefined)
  await preflight(APP_ORIGIN, 'POST', 'traceparent')
  t.match(gateway.logs.requests[1], {
    method: 'OPTIONS',
    status: 204,
    rule: 'cors_header_not_allowed',
    cors: 'cors_header_not_allowed',
    origin: APP_ORIGIN,
    header: 'traceparent'
  })
})

t.test('CORS_ALLOWED_HEADERS must be header names', async (t) => {
  const { url } = await startStandIn(t)
  t.throws(
    () => loadConfig(gatewayEnv(url, { CORS_ALLOWED_HEADERS: 'content-type, x bad' }), { defaultConfigFile: undefined }),
    /CORS_ALLOWED_HEADERS: header names only/
  )
})

t.test('a preflight with an unlisted header is logged with the rule and the header name', async (t) => {
  const { preflight, gateway } = await setup(t)
  // Algolia's own transport example sends X-Session-Id: the preflight fails in the browser.
  const response = await preflight(APP_ORIGIN, 'POST', 'content-type,x-session-id')
  t.equal(response.statusCode, 204, 'the browser, not the status, enforces the refusal')
  t.notMatch(response.headers['access-control-allow-headers'], /x-session-id/)
  t.match(gateway.logs.requests[0], { rule: 'cors_header_not_allowed', origin: APP_ORIGIN, header: 'x-session-id' })
})

t.test('a preflight from an unlisted origin is logged with the rule and the origin', async (t) => {
  const { preflight, gateway } = await setup(t)
  const response = await preflight('https://shop.example.net', 'POST', 'content-type')
  t.equal(response.headers['access-control-allow-origin'], undefined)
  t.match(gateway.logs.requests[0], { method: 'OPTIONS', rule: 'cors_origin_not_allowed', cors: 'cors_origin_not_allowed', origin: 'https://shop.example.net' })
  t.equal(gateway.logs.requests[0]!.header, undefined)
})

t.test('a preflight for a method the gateway does not serve is logged with the method', async (t) => {
  const { preflight, gateway } = await setup(t)
  await preflight(APP_ORIGIN, 'PUT')
  t.match(gateway.logs.requests[0], { rule: 'cors_method_not_allowed', refusedMethod: 'PUT' })
})

t.test('an over-long origin is cut in the log line', async (t) => {
  const { preflight, gateway } = await setup(t)
  await preflight(`https://${'a'.repeat(300)}.example`, 'POST')
  t.equal(String(gateway.logs.requests[0]!.origin).length, LOG_TEXT_MAX + 1, "cut at the log's one bound for client text, marked …")
  t.match(String(gateway.logs.requests[0]!.origin), /a…$/)
})

t.test('an actual request from an unlisted origin keeps its own rule and names the CORS refusal', async (t) => {
  const { gateway, standIn } = await setup(t)
  const token = await sessionToken('u1')
  const response = await gateway.app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, origin: 'https://shop.example.net' },
    payload: completionBody()
  })
  t.equal(response.statusCode, 200, 'a bearer session is served')
  t.equal(response.headers['access-control-allow-origin'], undefined, 'but the browser will not let the page read it')
  const line = gateway.logs.requests[0]!
  t.match(line, { status: 200, cors: 'cors_origin_not_allowed', origin: 'https://shop.example.net' })
  t.equal(line.rule, undefined, 'served requests are not counted as refusals')
  t.equal(standIn.received.length, 1)
})

t.test('a same-origin request carrying Origin is not a CORS refusal', async (t) => {
  const { gateway } = await setup(t)
  const token = await sessionToken('u1')
  await gateway.app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json', cookie: `session=${token}`, origin: 'http://gateway.example.com', host: 'gateway.example.com' },
    payload: completionBody()
  })
  t.match(gateway.logs.requests[0], { status: 200 })
  t.equal(gateway.logs.requests[0]!.cors, undefined)
})

t.test('headers CORS allows never go upstream: only the header boundary decides', async (t) => {
  const { gateway, standIn } = await setup(t, { CORS_ALLOWED_HEADERS: 'content-type,authorization,traceparent,tracestate,x-client-version' })
  const token = await sessionToken('u1')
  const response = await gateway.app.inject({
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      origin: APP_ORIGIN,
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'vendor=opaque',
      'x-client-version': '1.2.3',
      'accept-language': 'fr'
    },
    payload: completionBody()
  })
  t.equal(response.statusCode, 200)
  const sent = standIn.received[0]!.headers
  t.equal(sent.traceparent, undefined)
  t.equal(sent.tracestate, undefined)
  t.equal(sent['x-client-version'], undefined)
  t.equal(sent.authorization, undefined)
  t.equal(sent['accept-language'], 'fr', "the boundary's own allow-list still passes")
})

t.test('an empty ALLOWED_ORIGINS is a start-up warning that says what to set', async (t) => {
  const { url } = await startStandIn(t)
  const { warnings } = loadConfig(gatewayEnv(url, { ALLOWED_ORIGINS: '' }), { defaultConfigFile: undefined })
  t.ok(
    warnings.some((w) => /^ALLOWED_ORIGINS is empty: .*only pages served from the gateway's own origin.*ALLOWED_ORIGINS=https:\/\/app\.example\.com/.test(w))
  )
  const listed = loadConfig(gatewayEnv(url), { defaultConfigFile: undefined })
  t.notOk(listed.warnings.some((w) => w.startsWith('ALLOWED_ORIGINS')))
})
