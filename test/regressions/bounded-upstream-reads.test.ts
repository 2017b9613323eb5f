// @test-process: alone (measures this process's RSS)
import type { ServerResponse } from 'node:http'
import t from 'tap'
import { request } from 'undici'
import { AGENT_ID, sessionToken } from '../helpers/fixtures.js'
import { startGateway, testClient } from '../helpers/gateway.js'
import { startHostileUpstream } from '../helpers/hostile-upstream.js'

// Issue 11, item 9: bodies the gateway reads itself were read without a bound (an endless
// upstream JSON body took the process to 2.7 GB), and a timeout while such a body arrived
// became 500 instead of 504.

const CHUNK = Buffer.alloc(64 * 1024, 0x20)

/** Writes JSON-looking bytes for as long as the reader takes them; counts what it wrote. */
function endless(response: ServerResponse, written: { bytes: number }) {
  response.writeHead(200, { 'content-type': 'application/json' })
  response.write('{"messages":[')
  const pump = () => {
    while (!response.destroyed) {
      written.bytes += CHUNK.length
      if (!response.write(CHUNK)) return void response.once('drain', pump)
    }
  }
  pump()
}

/** A conversation read: the gateway parses the answer to map conversation ids back to the client's. */
const readConversation = async (gatewayUrl: string, t: Parameters<typeof testClient>[0]) => {
  const response = await request(`${gatewayUrl}/agent-studio/1/agents/${AGENT_ID}/conversations/c1`, {
    method: 'GET',
    dispatcher: testClient(t),
    headers: { authorization: `Bearer ${await sessionToken('alice')}` }
  })
  return { status: response.statusCode, body: (await response.body.json()) as { error: string } }
}

t.test('an endless upstream body the gateway reads itself is cut at 1 MiB: 502, and the process does not grow', async (t) => {
  const written = { bytes: 0 }
  const { url, paths } = await startHostileUpstream(t, (_request, response) => endless(response, written))
  const gateway = await startGateway(t, url)
  const rssBefore = process.memoryUsage().rss
  t.match(await readConversation(gateway.url, t), { status: 502, body: { error: 'upstream_error' } })
  t.ok(written.bytes < 8 * 1024 * 1024, `the upstream could write only ${written.bytes} bytes before the gateway hung up`)
  t.ok(process.memoryUsage().rss - rssBefore < 64 * 1024 * 1024, 'memory stayed flat')
  t.equal(paths.length, 1)
  const line = gateway.logs.requests.at(-1)!
  t.match(line, { status: 502, rule: 'upstream_error' })
})

t.test('an erasure whose conversation list never ends reports itself incomplete instead of growing the process', async (t) => {
  const written = { bytes: 0 }
  const { url } = await startHostileUpstream(t, (request, response) => {
    if (request.method === 'GET') endless(response, written)
    else response.writeHead(204).end()
  })
  const gateway = await startGateway(t, url)
  const response = await request(`${gateway.url}/agent-studio/1/user-data/me`, {
    method: 'DELETE',
    dispatcher: testClient(t),
    headers: { authorization: `Bearer ${await sessionToken('alice')}` }
  })
  t.equal(response.statusCode, 502)
  t.match(await response.body.json(), { error: 'erasure_incomplete' })
  t.ok(written.bytes < 8 * 1024 * 1024, `the upstream could write only ${written.bytes} bytes`)
})

t.test('an upstream body that stalls after its headers is a 504, not a 500', async (t) => {
  const { url } = await startHostileUpstream(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' })
    response.write('{"id":')
  })
  const gateway = await startGateway(t, url, { env: { UPSTREAM_IDLE_TIMEOUT_MS: '500', UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '5000' } })
  t.match(await readConversation(gateway.url, t), { status: 504, body: { error: 'upstream_timeout' } })
})

t.test('an endless answer from the forward-auth session endpoint is cut too: 503, never a sign-in', async (t) => {
  const written = { bytes: 0 }
  const sessionEndpoint = await startHostileUpstream(t, (_request, response) => endless(response, written))
  const { url } = await startHostileUpstream(t, (_request, response) => response.end('{}'))
  const gateway = await startGateway(t, url, { env: { SESSION_JWT_SECRET: undefined, SESSION_INTROSPECT_URL: `${sessionEndpoint.url.origin}/session` } })
  const response = await request(`${gateway.url}/search-key`, { method: 'POST', dispatcher: testClient(t), headers: { authorization: 'Bearer some-session' } })
  t.equal(response.statusCode, 503)
  t.match(await response.body.json(), { error: 'session_unavailable' })
  t.ok(written.bytes < 8 * 1024 * 1024, `the session endpoint could write only ${written.bytes} bytes`)
})
