// @test-process: shared (starts child processes that log and end; nothing of this one changes)
import t from 'tap'
import { AGENT_ID, APP_ORIGIN, TEST_KEYS, completionBody, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { postCompletion, waitFor } from '../helpers/requests.js'
import { createLogger } from '../../src/logging/logger.js'
import { Credentials } from '../../src/credentials/credentials.js'
import { recordRefusal } from '../../src/error-handler.js'
import { LogCapture } from '../helpers/gateway.js'

t.test('one summary line per request with the figures ops need', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url)
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'ops-user' })
  const text = await response.body.text()
  await waitFor(() => gateway.logs.requests.length === 1)

  const line = gateway.logs.requests[0]!
  t.match(line, {
    level: 30,
    msg: 'request',
    reqId: response.headers['x-request-id'],
    method: 'POST',
    route: '/agent-studio/1/agents/:agentId/completions',
    path: `/agent-studio/1/agents/${AGENT_ID}/completions`,
    status: 200,
    upstreamStatus: 200,
    agentId: AGENT_ID,
    userId: 'ops-user'
  })
  t.equal(line.bytesSent, Buffer.byteLength(text), 'bytesSent counts exactly what was relayed')
  t.type(line.ttfbMs, 'number')
  t.type(line.durationMs, 'number')
  t.ok((line.durationMs as number) >= (line.ttfbMs as number))
  t.equal(line.cutBy, undefined, 'a complete stream was not cut')
  t.equal(gateway.logs.lines.filter((l) => l.reqId === line.reqId).length, 1, 'exactly one line for this request')
})

t.test('no secret, token, cookie or message content ever reaches the log', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { LOG_LEVEL: 'trace' } })
  const client = testClient(t)
  const token = await sessionToken('secret-keeper')
  // A successful stream, a refused CSRF attempt, a forged token, an upstream failure.
  await (
    await postCompletion({
      gatewayUrl: gateway.url,
      dispatcher: client,
      headers: { cookie: `session=${token}`, origin: APP_ORIGIN },
      body: completionBody('my private medical question')
    })
  ).body.text()
  await (
    await postCompletion({
      gatewayUrl: gateway.url,
      dispatcher: client,
      headers: { cookie: `session=${token}`, origin: 'https://evil.example', 'x-algolia-api-key': 'browser-key-xyz' }
    })
  ).body.text()
  await (await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, headers: { authorization: 'Bearer forged.token.value' } })).body.text()
  standIn.setFault({ kind: 'status', status: 500 })
  await (await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, headers: { authorization: `Bearer ${token}` } })).body.text()
  await waitFor(() => gateway.logs.requests.length === 4)

  const minted = String(standIn.received[0]!.headers['x-algolia-secure-user-token'])
  const logText = gateway.logs.text()
  const secrets: Array<[string, string]> = [
    ['the API key', TEST_KEYS.apiKey],
    ['the authentication key', TEST_KEYS.secretKey],
    ['the session secret', TEST_KEYS.sessionSecret],
    ['the session token', token],
    ['the minted user token', minted],
    ['the browser-sent key', 'browser-key-xyz'],
    ['the forged token', 'forged.token.value'],
    ['the message content', 'medical question']
  ]
  for (const [what, secret] of secrets) {
    t.notOk(logText.includes(secret), `${what} is not in the log`)
  }
  t.same(
    gateway.logs.requests.map((l) => l.status),
    [200, 403, 401, 502]
  )
  t.same(
    gateway.logs.requests.map((l) => l.rule),
    [undefined, 'origin_not_allowed', 'session_invalid', 'upstream_error']
  )
  t.equal(gateway.logs.requests[3]!.level, 50, '5xx lines are errors, with the cause attached')
  t.ok(gateway.logs.requests[3]!.err, 'the 5xx line carries the error')
})

t.test('redaction catches credentials even if a header object is ever logged', async (t) => {
  const capture = new LogCapture()
  const logger = createLogger({ level: 'info', pretty: false }, capture)
  logger.info(
    { req: { headers: { authorization: 'Bearer abc', cookie: 'session=abc', 'x-algolia-api-key': 'k', 'x-algolia-secure-user-token': 'tok' } } },
    'debug'
  )
  logger.info({ headers: { authorization: 'Bearer abc', cookie: 'session=abc', 'x-algolia-api-key': 'k', 'x-algolia-secure-user-token': 'tok' } }, 'debug')
  const [first, second] = capture.lines
  t.same((first!.req as { headers: unknown }).headers, {
    authorization: '[redacted]',
    cookie: '[redacted]',
    'x-algolia-api-key': '[redacted]',
    'x-algolia-secure-user-token': '[redacted]'
  })
  t.same(second!.headers, { authorization: '[redacted]', cookie: '[redacted]', 'x-algolia-api-key': '[redacted]', 'x-algolia-secure-user-token': '[redacted]' })
})

t.test('an unexpected failure answers 500 internal_error in fixed words; what went wrong is on the log line only', async (t) => {
  // A bug inside the gateway (here: the credentials object throws) must not tell the browser
  // about internals: the message could name a host, a path or a secret.
  const detail = 'connect ECONNREFUSED 10.9.8.7:6379 with password hunter2'
  class BrokenCredentials extends Credentials {
    override async headersFor(): Promise<Record<string, string>> {
      throw new Error(detail)
    }
  }
  const broken = new BrokenCredentials({
    appId: 'APP',
    secrets: { apiKey: TEST_KEYS.apiKey, searchKey: undefined, signingKey: { keyId: 'kid', secret: TEST_KEYS.secretKey } },
    userTokenTtlSeconds: 600,
    searchKey: { enabled: false, ttlSeconds: 3600, indices: [], filters: '', agentTenantIsolation: false }
  })
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { deps: { credentials: broken } })
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'unlucky' })
  const text = await response.body.text()
  t.equal(response.statusCode, 500)
  t.same(JSON.parse(text), {
    error: 'internal_error',
    message: 'Something went wrong in the gateway; the request id helps us find out what.',
    requestId: response.headers['x-request-id']
  })
  t.notOk(text.includes('hunter2') || text.includes('10.9.8.7'), 'nothing of the error reaches the browser')
  t.equal(standIn.received.length, 0)
  await waitFor(() => gateway.logs.requests.length === 1)
  const line = gateway.logs.requests[0]!
  t.match(line, { level: 50, status: 500, rule: 'internal_error' })
  t.match(JSON.stringify(line.err), /ECONNREFUSED/, 'the log line says what went wrong')
})

t.test('the rule on the log line is the first refusal recorded: a later one does not replace it', async (t) => {
  // src/error-handler.ts's contract. Today only a CORS preflight records a refusal besides
  // sendError, and it is answered at once, so no request test reaches a second recording.
  const request = { summary: {} } as unknown as Parameters<typeof recordRefusal>[0]
  recordRefusal(request, 'cors_origin_not_allowed')
  recordRefusal(request, 'session_required')
  t.equal(request.summary.rule, 'cors_origin_not_allowed')
})

// Issue 26: where the wait before the first byte went, on the line itself.
t.test('a completion line says where its wait went (phasesMs), to the microsecond', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url)
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'phases-user' })
  await response.body.text()
  const refused = await gateway.app.inject({ method: 'POST', url: `/agent-studio/1/agents/${AGENT_ID}/completions`, payload: completionBody() })
  t.equal(refused.statusCode, 401)
  await waitFor(() => gateway.logs.requests.length === 2)
  const [line, refusedLine] = [response.headers['x-request-id'], refused.headers['x-request-id']].map((id) => gateway.logs.requests.find((l) => l.reqId === id))
  const phases = line!.phasesMs as Record<string, number>
  t.same(Object.keys(phases), ['total', 'session', 'admission', 'policy', 'upstream', 'relay'], 'every step of a completion')
  for (const [name, ms] of Object.entries(phases))
    t.ok(ms >= 0 && Number.isFinite(ms) && Math.abs(Math.round(ms * 1000) - ms * 1000) < 1e-6, `${name}: ${ms} ms, to the µs`)
  const sum = phases.session! + phases.admission! + phases.policy! + phases.upstream! + phases.relay!
  t.ok(Math.abs(sum - phases.total!) < 0.01, 'the steps add up to the total')
  t.ok(phases.total! <= (line!.durationMs as number) + 1, 'within the request')
  t.equal(refusedLine!.phasesMs, undefined, 'a request refused before its session was known has none')
})

t.test('log lines written in batches are all written, however the process ends', async (t) => {
  const { spawn } = await import('node:child_process')
  const { nodeCommand } = await import('../helpers/process.js')
  const [command, ...args] = nodeCommand('test/helpers/log-then-exit.ts')
  const run = (how: string) =>
    new Promise<{ lines: string[]; code: number | null }>((resolve) => {
      const child = spawn(command!, [...args, how], { stdio: ['ignore', 'pipe', 'ignore'] })
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        // `idle` never ends by itself: its lines arrive on the flush timer.
        if (how === 'idle' && out.split('\n').filter((l) => l.includes('line before the end')).length === 3) child.kill()
      })
      child.on('close', (code) => resolve({ lines: out.split('\n').filter((l) => l.includes('line before the end')), code }))
    })
  for (const how of ['exit', 'throw', 'idle']) {
    const { lines, code } = await run(how)
    t.equal(lines.length, 3, `${how}: every line written`)
    if (how === 'exit') t.equal(code, 3)
    if (how === 'throw') t.equal(code, 1)
  }
})
