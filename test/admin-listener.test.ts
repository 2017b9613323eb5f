// Issue 22: probes shared the public listener and its connection cap, so a flood of idle
// connections failed liveness and Kubernetes restarted healthy pods. With ADMIN_PORT, /healthz,
// /readyz and /metrics have a listener of their own; readiness (not liveness) reports a full cap
// and a drain.
import { once } from 'node:events'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import t from 'tap'
import { request } from 'undici'
import { AGENT_ID, completionBody, sessionToken } from './helpers/fixtures.js'
import { NO_SHEDDING, startGateway, startStandIn, testClient } from './helpers/gateway.js'

async function withAdmin(t: Parameters<typeof startStandIn>[0], env: Record<string, string> = {}, standInOptions = {}) {
  const { url } = await startStandIn(t, standInOptions)
  // ADMIN_PORT only has to be set: the test listens on a free port itself, as server.ts would on the configured one.
  const gateway = await startGateway(t, url, { env: { ...NO_SHEDDING, ADMIN_PORT: '9999', ...env } })
  const adminUrl = await gateway.app.admin!.listen({ host: '127.0.0.1', port: 0 })
  return { gateway, adminUrl }
}

const get = async (url: string) => {
  const response = await request(url)
  return { status: response.statusCode, body: await response.body.text() }
}

t.test('with ADMIN_PORT, probes and metrics are on the admin listener only', async (t) => {
  const { gateway, adminUrl } = await withAdmin(t)
  t.equal((await get(`${adminUrl}/healthz`)).status, 200)
  const ready = await get(`${adminUrl}/readyz`)
  t.equal(ready.status, 200)
  t.match(JSON.parse(ready.body), { status: 'ready', policy: { hash: /^[0-9a-f]{12}$/ } })
  t.match((await get(`${adminUrl}/metrics`)).body, /^gateway_requests_total/m)
  for (const path of ['/healthz', '/readyz', '/metrics']) {
    const publicAnswer = await get(`${gateway.url}${path}`)
    t.equal(publicAnswer.status, 404, `the public listener does not serve ${path}`)
    t.match(JSON.parse(publicAnswer.body), { error: 'not_found' })
  }
  t.equal((await get(`${adminUrl}/agent-studio/1/agents/${AGENT_ID}/conversations`)).status, 404, 'and the admin listener serves nothing else')
})

t.test('ADMIN_ROUTES_ON_PUBLIC keeps them on the public listener too', async (t) => {
  const { gateway, adminUrl } = await withAdmin(t, { ADMIN_ROUTES_ON_PUBLIC: 'true' })
  t.equal((await get(`${gateway.url}/healthz`)).status, 200)
  t.equal((await get(`${adminUrl}/healthz`)).status, 200)
})

t.test('a public listener full of idle connections: liveness stays 200, readiness turns 503 until they go', async (t) => {
  const { gateway, adminUrl } = await withAdmin(t, { MAX_CONNECTIONS: '4', MAX_CONNECTIONS_PER_ADDRESS: '100' })
  const { hostname, port } = new URL(gateway.url)
  const idle: Socket[] = []
  t.teardown(() => idle.forEach((socket) => socket.destroy()))
  for (let n = 0; n < 6; n++) {
    const socket = connect({ host: hostname, port: Number(port) })
    socket.on('error', () => undefined)
    await once(socket, 'connect')
    idle.push(socket)
  }
  t.equal((await get(`${adminUrl}/healthz`)).status, 200, 'liveness depends on nothing a client can exhaust')
  // The kernel completes a handshake before Node accepts it: ask until the gateway has accepted them.
  let notReady = await get(`${adminUrl}/readyz`)
  for (let attempt = 0; attempt < 200 && notReady.status !== 503; attempt++) notReady = await get(`${adminUrl}/readyz`)
  t.equal(notReady.status, 503)
  t.match(JSON.parse(notReady.body), { error: 'not_ready', message: /connection cap is full/ })
  idle.forEach((socket) => socket.destroy())
  let ready = 0
  for (let attempt = 0; attempt < 200 && ready !== 200; attempt++) ready = (await get(`${adminUrl}/readyz`)).status
  t.equal(ready, 200, 'ready again once the connections are gone, without a restart')
})

t.test('while the public listener drains, the admin listener says 503 on /readyz and 200 on /healthz, and the stream finishes', async (t) => {
  const { gateway, adminUrl } = await withAdmin(t, {}, { paceMs: 30 })
  const response = await request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5`, {
    method: 'POST',
    dispatcher: testClient(t),
    headers: { authorization: `Bearer ${await sessionToken('drain-user')}`, 'content-type': 'application/json' },
    body: JSON.stringify(completionBody('[search] a long answer'))
  })
  t.equal(response.statusCode, 200)
  const body = response.body.text()
  const closed = gateway.app.close()
  const draining = await get(`${adminUrl}/readyz`)
  t.equal(draining.status, 503)
  t.match(JSON.parse(draining.body), { message: /shutting down/ })
  t.equal((await get(`${adminUrl}/healthz`)).status, 200, 'alive: no restart while it drains')
  t.match(await body, /"type":"finish"/, 'the stream in flight finished')
  await closed
  await t.rejects(request(`${adminUrl}/healthz`), 'the admin listener closes with the app, after the drain')
})

t.test('one peer holding idle sockets to the admin listener cannot fail the probes (review finding)', async (t) => {
  const { adminUrl } = await withAdmin(t)
  const { hostname, port } = new URL(adminUrl)
  const idle: Socket[] = []
  t.teardown(() => idle.forEach((socket) => socket.destroy()))
  for (let n = 0; n < 70; n++) {
    const socket = connect({ host: hostname, port: Number(port), localAddress: '127.0.0.2' })
    socket.on('error', () => undefined)
    await once(socket, 'connect')
    idle.push(socket)
  }
  t.equal((await get(`${adminUrl}/healthz`)).status, 200, 'the kubelet (another address) is still answered')
  t.equal((await get(`${adminUrl}/readyz`)).status, 200)
  const metrics = await get(`${adminUrl}/metrics`)
  t.match(metrics.body, /^gateway_connections_refused_total\{reason="admin_per_address"\} [1-9]\d*$/m, "the peer's extra sockets were closed on accept")
})
