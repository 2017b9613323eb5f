// @test-process: alone (blocks this process's event loop on purpose, with load shedding on)
import t from 'tap'
import { request } from 'undici'
import { sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'

// Issue 11, item 1: @fastify/under-pressure's sampling timer called process.memoryUsage(),
// which throws EMFILE when descriptors run out, and took the process down. Its replacement
// (src/plugins/load-shedding.ts) must still shed load on event-loop delay.

t.test('a lagging event loop gets 503 overloaded with retry-after on API routes, never on /healthz', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { MAX_EVENT_LOOP_DELAY_MS: '5' } })
  const client = testClient(t)
  const token = await sessionToken('alice')
  // Block the loop (the gateway runs in this process) for longer than a sampling interval. The
  // mean delay over that interval (one 1.5 s sample among ~100 of 10 ms) is well above 5 ms.
  const until = Date.now() + 1500
  while (Date.now() < until) {
    // busy: the lag being measured
  }
  // The sampler runs on the next turn; the requests below arrive after it.
  await new Promise((resolve) => setImmediate(resolve))
  const shed = await request(`${gateway.url}/search-key`, { method: 'POST', dispatcher: client, headers: { authorization: `Bearer ${token}` } })
  t.equal(shed.statusCode, 503)
  t.equal(shed.headers['retry-after'], '5')
  t.match(await shed.body.json(), { error: 'overloaded' })
  const health = await request(`${gateway.url}/healthz`, { dispatcher: client })
  t.equal(health.statusCode, 200, '/healthz is never shed')
  await health.body.dump()
  t.equal(standIn.received.length, 0)
})
