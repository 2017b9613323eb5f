// Regression (issue 19.6): user ids were escaped, but the JWT `reason` (jose quotes a `crit`
// entry of an unauthenticated token) and the CORS fields `origin`, `header` and `refusedMethod`
// were written raw: bidi and C1 characters reached log viewers, and one line grew to 12 KB.
import t from 'tap'
import { request } from 'undici'
import { LOG_TEXT_MAX } from '../../src/logging/escape.js'
import { AGENT_ID, APP_ORIGIN } from '../helpers/fixtures.js'
import { sharedGateways, testClient } from '../helpers/gateway.js'
import { rawRequest, waitFor } from '../helpers/requests.js'

const shared = sharedGateways(t, { listen: true })
const RAW_UNSAFE = /[\u0080-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029\u061c\u200e\u200f]/
/** Longest a field may be once cut and escaped: every kept character may become `\uXXXX`, plus the `…`. */
const LONGEST_FIELD = LOG_TEXT_MAX * 6 + 1

t.test('a JWT whose crit names bidi and C1 characters at length leaves an escaped, capped reason', async (t) => {
  const { gateway } = await shared()
  const crit = `\u202Eevil\u0085${'x'.repeat(4000)}`
  // Made by hand: jose's own signer refuses a crit it does not know. The signature is never
  // checked: jose refuses the unknown crit entry first, as it would an attacker's token.
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const token = `${part({ alg: 'HS256', crit: [crit], [crit]: true })}.${part({ sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 60 })}.${'A'.repeat(43)}`
  const response = await request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/completions/chat-1/stream`, {
    dispatcher: testClient(t),
    headers: { authorization: `Bearer ${token}` }
  })
  t.equal(response.statusCode, 401)
  t.equal(((await response.body.json()) as { error: string }).error, 'session_invalid')
  await waitFor(() => gateway.logs.requests.length === 1)
  const reason = String(gateway.logs.requests[0]!.reason)
  t.match(reason, /^Extension Header Parameter "\\u202eevil\\u0085x+…$/, 'the reason is kept, escaped, and cut at its length')
  t.ok(reason.length < LOG_TEXT_MAX + 100, `the reason is ${reason.length} characters, not kilobytes`)
  t.notMatch(gateway.logs.text(), RAW_UNSAFE, 'no such character reached the log raw')
})

t.test('a refused preflight with hostile origin, method and header names leaves escaped, capped CORS fields', async (t) => {
  const { gateway } = await shared()
  const long = 'y'.repeat(5000)
  // Over a raw socket: written as UTF-8, read by Node's parser as latin1, so C1 bytes arrive
  // (`\u202E` arrives as `â\u0080®`, `\u0085` as `Â\u0085`; header names are lower-cased).
  const answer = await rawRequest(
    gateway.url,
    [
      `OPTIONS /agent-studio/1/agents/${AGENT_ID}/completions HTTP/1.1`,
      `Host: 127.0.0.1`,
      `Origin: ${APP_ORIGIN}`,
      `Access-Control-Request-Method: POST`,
      `Access-Control-Request-Headers: content-type, x-\u202Eevil\u0085${long}`
    ].join('\r\n'),
    ''
  )
  t.match(answer, /^HTTP\/1\.1 204/)
  const second = await rawRequest(
    gateway.url,
    [
      `OPTIONS /agent-studio/1/agents/${AGENT_ID}/completions HTTP/1.1`,
      `Host: 127.0.0.1`,
      `Origin: https://evil.example\u202E${long}`,
      `Access-Control-Request-Method: P\u0085ST${long}`
    ].join('\r\n'),
    ''
  )
  t.match(second, /^HTTP\/1\.1 204/)
  const third = await rawRequest(
    gateway.url,
    [
      `OPTIONS /agent-studio/1/agents/${AGENT_ID}/completions HTTP/1.1`,
      `Host: 127.0.0.1`,
      `Origin: ${APP_ORIGIN}`,
      `Access-Control-Request-Method: P\u0085ST${long}`
    ].join('\r\n'),
    ''
  )
  t.match(third, /^HTTP\/1\.1 204/)
  await waitFor(() => gateway.logs.requests.length === 3)
  const [header, origin, method] = gateway.logs.requests
  t.equal(header!.cors, 'cors_header_not_allowed')
  t.match(String(header!.header), /^x-â\\u0080®evilâ\\u0085y+…$/, 'the header name: escaped and cut')
  t.equal(origin!.cors, 'cors_origin_not_allowed')
  t.match(String(origin!.origin), /^https:\/\/evil\.exampleâ\\u0080®y+…$/, 'the origin: escaped and cut')
  t.equal(method!.cors, 'cors_method_not_allowed')
  t.match(String(method!.refusedMethod), /^PÂ\\u0085STy+…$/, 'the method: escaped and cut')
  for (const line of gateway.logs.requests) {
    for (const field of ['origin', 'header', 'refusedMethod'] as const) {
      if (line[field] !== undefined) t.ok(String(line[field]).length <= LONGEST_FIELD, `${field} stays short`)
    }
  }
  for (const raw of gateway.logs.raw.join('').split('\n').filter(Boolean)) t.ok(raw.length < 2500, `a line is ${raw.length} bytes, not kilobytes`)
  t.notMatch(gateway.logs.text(), RAW_UNSAFE, 'no such character reached the log raw')
})
