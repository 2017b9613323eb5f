// @test-process: shared (spawns a gateway process and kills it; nothing of this process changes)
import { Redis } from 'ioredis'
import t from 'tap'
import type { Test } from 'tap'
import { AGENT_ID, gatewayEnv } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { SHARED_REDIS, limitsFile, redisNamespace } from '../helpers/limits.js'
import { keyPrefix } from '../../src/redis/keys.js'
import { spawnGateway } from '../helpers/process.js'
import { nextEvent, postCompletion, waitFor } from '../helpers/requests.js'

/** Resolves once `user` holds no stream slot in Redis (polled: the release is one round trip). */
async function leasesEmpty(namespace: string, user: string): Promise<void> {
  const redis = new Redis(SHARED_REDIS)
  try {
    for (let poll = 0; poll < 500; poll++) {
      if ((await redis.zcard(`${keyPrefix(namespace)}streams:user:${user}`)) === 0) return
      await new Promise((resolve) => setImmediate(resolve))
    }
    throw new Error(`${user} still holds a stream slot`)
  } finally {
    redis.disconnect()
  }
}

/** Two instances sharing a Redis, and a stand-in whose streams stay open until released. */
async function setup(t: Test, streams: Record<string, number>) {
  const { standIn, url } = await startStandIn(t)
  const file = limitsFile({ streams: { leaseSeconds: 30, ...streams } })
  const namespace = redisNamespace(t)
  const env = { GATEWAY_CONFIG_FILE: file, REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: namespace }
  const a = await startGateway(t, url, { env })
  const b = await startGateway(t, url, { env })
  let release!: () => void
  let held = new Promise<void>((resolve) => (release = resolve))
  standIn.setBeforeEvent(async (index) => {
    if (index === 1) await held
  })
  const client = testClient(t)
  /** Opens a stream and waits until its first event arrived (the slot is taken). */
  async function open(gatewayUrl: string, user: string, signal?: AbortSignal) {
    const response = await postCompletion({ gatewayUrl, dispatcher: client, user, ...(signal ? { signal } : {}) })
    if (response.statusCode === 200) await response.body[Symbol.asyncIterator]().next()
    return response
  }
  return {
    standIn,
    a,
    b,
    open,
    url,
    file,
    namespace,
    releaseAll() {
      release()
      held = new Promise<void>((resolve) => (release = resolve))
    }
  }
}

t.test('the per-user stream cap holds across instances, and a slot is freed when the client aborts', async (t) => {
  const s = await setup(t, { perUser: 2, global: 100 })
  const first = new AbortController()
  await s.open(s.a.url, 'u1', first.signal)
  await s.open(s.b.url, 'u1')
  const third = await s.open(s.a.url, 'u1')
  t.equal(third.statusCode, 429)
  t.same(await third.body.json(), {
    error: 'too_many_streams',
    message: 'Too many answers are streaming at once for you (at most 2); wait for one to finish.',
    requestId: third.headers['x-request-id']
  })
  t.equal(third.headers['retry-after'], '5')
  const other = await s.open(s.b.url, 'u2')
  t.equal(other.statusCode, 200, 'another user is not affected')
  await waitFor(() => s.a.logs.requests.some((line) => line.rule === 'too_many_streams'))

  first.abort()
  await waitFor(() => s.a.logs.requests.some((line) => line.cutBy === 'client'))
  const again = await s.open(s.b.url, 'u1')
  t.equal(again.statusCode, 200, "the aborted stream's slot is free again, on the other instance too")
  s.releaseAll()
})

t.test('a slot is released when the stream ends normally and when the upstream fails', async (t) => {
  const s = await setup(t, { perUser: 1, global: 100 })
  s.standIn.setBeforeEvent(null)
  const done = await postCompletion({ gatewayUrl: s.a.url, dispatcher: testClient(t), user: 'u1' })
  t.match(await done.body.text(), /\[DONE\]/)
  // The release is sent when the response closes, as the log line is written: wait for Redis to
  // have it (the next request goes through the other instance's own connection), not for the line.
  await leasesEmpty(s.namespace, 'u1')
  t.equal((await postCompletion({ gatewayUrl: s.b.url, dispatcher: testClient(t), user: 'u1' })).statusCode, 200, 'free after a normal end')

  s.standIn.setFault({ kind: 'status', status: 500 })
  const failed = await postCompletion({ gatewayUrl: s.a.url, dispatcher: testClient(t), user: 'u1' })
  t.equal(failed.statusCode, 502)
  await failed.body.dump()
  s.standIn.setFault(null)
  // As above: the release leaves when the 502 closes, and must reach Redis before the other instance asks.
  await leasesEmpty(s.namespace, 'u1')
  t.equal((await postCompletion({ gatewayUrl: s.b.url, dispatcher: testClient(t), user: 'u1' })).statusCode, 200, 'free after an upstream error')
})

t.test('the global cap counts every user on every instance', async (t) => {
  const s = await setup(t, { perUser: 5, global: 2 })
  await s.open(s.a.url, 'u1')
  await s.open(s.b.url, 'u2')
  const third = await s.open(s.a.url, 'u3')
  t.equal(third.statusCode, 429)
  t.match(await third.body.json(), { error: 'too_many_streams', message: /on this service/ })
  s.releaseAll()
})

t.test("a killed instance's slots expire by themselves", async (t) => {
  const { standIn, url } = await startStandIn(t)
  standIn.setBeforeEvent(async (index) => {
    if (index === 1) await new Promise(() => undefined) // the stream never finishes on its own
  })
  const namespace = redisNamespace(t)
  // Request limits off: this test polls.
  const file = limitsFile({
    ip: { max: 0, windowSeconds: 60 },
    user: { max: 0, windowSeconds: 60 },
    routes: { completions: { max: 0, windowSeconds: 60 } },
    streams: { perUser: 1, global: 100, leaseSeconds: 2 }
  })
  const doomed = spawnGateway({ ...gatewayEnv(url), PORT: '0', GATEWAY_CONFIG_FILE: file, REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: namespace })
  t.teardown(() => doomed.child.kill('SIGKILL'))
  const address = String((await doomed.waitForLine((line) => line.msg === 'agent-studio-gateway listening')).address)
  const client = testClient(t)
  const opened = nextEvent(standIn.events, 'request')
  const stream = await postCompletion({ gatewayUrl: address, dispatcher: client, user: 'u1' })
  await opened
  stream.body.on('error', () => undefined)
  doomed.child.kill('SIGKILL')
  await doomed.exited

  const survivor = await startGateway(t, url, { env: { GATEWAY_CONFIG_FILE: file, REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: namespace } })
  standIn.setBeforeEvent(null)
  const blocked = await postCompletion({ gatewayUrl: survivor.url, dispatcher: client, user: 'u1' })
  t.equal(blocked.statusCode, 429, 'right after the crash, the dead instance still holds the slot')
  await blocked.body.dump()
  const started = Date.now()
  let status = 429
  while (status === 429) {
    if (Date.now() - started > 6000) break
    const response = await postCompletion({ gatewayUrl: survivor.url, dispatcher: client, user: 'u1' })
    status = response.statusCode
    const body = await response.body.text()
    if (status === 429) t.match(body, /too_many_streams/, 'refused by the stream cap, not by something else')
    if (status === 429) await new Promise((resolve) => setTimeout(resolve, 100)) // polling a lease expiry, not synchronising
  }
  t.equal(status, 200, `the lease expired ${Date.now() - started} ms later and the user can stream again`)
})

t.test('without Redis the caps hold per instance', async (t) => {
  const { standIn, url } = await startStandIn(t)
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  standIn.setBeforeEvent(async (index) => {
    if (index === 1) await held
  })
  const gateway = await startGateway(t, url, { env: { GATEWAY_CONFIG_FILE: limitsFile({ streams: { perUser: 1, global: 10 } }) } })
  const client = testClient(t)
  const first = await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user: 'u1', agentId: AGENT_ID })
  await first.body[Symbol.asyncIterator]().next()
  const second = await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user: 'u1' })
  t.equal(second.statusCode, 429)
  await second.body.dump()
  release()
})
