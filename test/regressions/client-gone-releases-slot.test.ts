// Issue 11 item 6: a browser that left while the gateway was still authenticating, checking
// limits or reading the body leaked its stream slot (five such aborts locked a user out of
// streaming) and the LLM call was still sent. Each phase is attacked here over a real socket,
// in memory and through Redis; the slot must be free again and Agent Studio never called.
import { once } from 'node:events'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import t from 'tap'
import type { Test } from 'tap'
import { AGENT_ID, completionBody } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import type { RunningGateway } from '../helpers/gateway.js'
import { SHARED_REDIS, limitsFile, redisKey, redisNamespace, redisRelay } from '../helpers/limits.js'
import { postCompletion, waitFor } from '../helpers/requests.js'

const BODY = JSON.stringify(completionBody())

/** The web app's session endpoint; "Bearer held-…" waits until the test opens the gate. */
async function sessionEndpoint(t: Test) {
  let open!: () => void
  const gate = new Promise<void>((resolve) => (open = resolve))
  const server = Fastify()
  const arrivals: string[] = []
  server.get('/api/session', async (request) => {
    const authorization = request.headers.authorization ?? ''
    arrivals.push(authorization)
    server.server.emit('arrival', authorization)
    if (authorization.startsWith('Bearer held')) await gate
    return { id: 'alice' }
  })
  const address = await server.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => server.close())
  return { url: `${address}/api/session`, open, arrivals, events: server.server }
}

async function setup(t: Test, store: 'memory' | 'Redis', redisUrl = SHARED_REDIS) {
  const endpoint = await sessionEndpoint(t)
  const { standIn, url } = await startStandIn(t)
  const namespace = redisNamespace(t)
  const gateway = await startGateway(t, url, {
    env: {
      MAX_EVENT_LOOP_DELAY_MS: '0', // a busy machine's 503 overloaded must not stand in for a refusal
      SESSION_JWT_SECRET: undefined,
      SESSION_INTROSPECT_URL: endpoint.url,
      SESSION_INTROSPECT_CACHE_SECONDS: '0',
      GATEWAY_CONFIG_FILE: limitsFile({ streams: { perUser: 1, global: 100 } }),
      ...(store === 'Redis' ? { REDIS_URL: redisUrl, REDIS_NAMESPACE: namespace } : {})
    }
  })
  const redis = new Redis(SHARED_REDIS)
  t.teardown(() => redis.disconnect())
  /** Slots alice holds: Redis's lease set, or this replica's gauge in memory. */
  const slots = async () =>
    store === 'Redis' ? redis.zcard(redisKey(namespace, 'streams:user:alice')) : (await gateway.app.metrics.openStreams.get()).values[0]!.value
  return { endpoint, standIn, gateway, slots }
}

/** Sends a completion's head and `bodyBytes` of its body over a raw socket, then keeps it open. */
function rawCompletion(gateway: RunningGateway, token: string, bodyBytes = BODY.length): Socket {
  const { port } = new URL(gateway.url)
  const socket = connect(Number(port), '127.0.0.1')
  socket.on('error', () => undefined)
  socket.write(
    `POST /agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5 HTTP/1.1\r\nHost: localhost\r\n` +
      `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY.slice(0, bodyBytes)}`
  )
  return socket
}

async function waitForAsync(condition: () => Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** After the attack: alice's one slot is free (a new stream is served) and Agent Studio saw only that one. */
async function assertSlotFreeAndNoCall(t: Test, s: Awaited<ReturnType<typeof setup>>) {
  await waitForAsync(async () => (await s.slots()) === 0)
  t.equal(await s.slots(), 0, 'no slot is held for the departed client')
  const next = await postCompletion({ gatewayUrl: s.gateway.url, dispatcher: testClient(t), headers: { authorization: 'Bearer good-alice' } })
  t.equal(next.statusCode, 200, 'alice can stream again (her only slot was released)')
  await next.body.text()
  t.equal(s.standIn.received.length, 1, 'Agent Studio received only the new request, never the departed one')
  await waitForAsync(async () => (await s.slots()) === 0)
}

for (const store of ['memory', 'Redis'] as const) {
  t.test(`${store}: a client gone while its session is being checked takes no slot and causes no upstream call`, async (t) => {
    const s = await setup(t, store)
    const arrived = once(s.endpoint.events, 'arrival')
    const socket = rawCompletion(s.gateway, 'held-1')
    await arrived
    socket.destroy()
    await waitFor(() => s.gateway.logs.requests.length === 1)
    t.match(s.gateway.logs.requests[0], { status: 499, cutBy: 'client' }, 'logged as the client closing')
    s.endpoint.open()
    await assertSlotFreeAndNoCall(t, s)
  })

  t.test(`${store}: a client gone after its slot was taken (body still uploading) frees the slot and causes no upstream call`, async (t) => {
    const s = await setup(t, store)
    const socket = rawCompletion(s.gateway, 'good-alice', 10)
    await waitForAsync(async () => (await s.slots()) === 1)
    socket.destroy()
    await assertSlotFreeAndNoCall(t, s)
  })
}

t.test('Redis: a client gone while the admission script is on its way frees the slot the script then grants', async (t) => {
  const gate = await redisRelay(t)
  const s = await setup(t, 'Redis', gate.url)
  gate.hold()
  const held = gate.nextHeld()
  const socket = rawCompletion(s.gateway, 'good-alice')
  await held
  socket.destroy()
  await waitFor(() => s.gateway.logs.requests.length === 1)
  t.match(s.gateway.logs.requests[0], { status: 499, cutBy: 'client' })
  gate.release()
  // The script runs now and grants the lease; the gateway must give it back at once.
  await assertSlotFreeAndNoCall(t, s)
})

t.test('five departures in a row never lock a user out of streaming', async (t) => {
  const s = await setup(t, 'Redis')
  for (let i = 0; i < 5; i++) {
    const socket = rawCompletion(s.gateway, 'good-alice', 10)
    await waitForAsync(async () => (await s.slots()) === 1)
    socket.destroy()
    await waitForAsync(async () => (await s.slots()) === 0)
  }
  await assertSlotFreeAndNoCall(t, s)
})
