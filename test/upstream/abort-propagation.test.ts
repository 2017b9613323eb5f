import t from 'tap'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import type { StreamClosed } from '../../standin/src/standin.js'
import { nextEvent, postCompletion, waitFor } from '../helpers/requests.js'

t.test('a browser that leaves mid-stream closes the upstream call at once', async (t) => {
  const { standIn, url: upstream } = await startStandIn(t, { paceMs: 50 })
  const gateway = await startGateway(t, upstream)
  const controller = new AbortController()
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'leaver', signal: controller.signal })
  const chunks = response.body[Symbol.asyncIterator]()
  await chunks.next()

  const upstreamClosed = nextEvent<StreamClosed>(standIn.events, 'stream-closed')
  const abortedAt = performance.now()
  controller.abort()
  const closed = await upstreamClosed
  const delayMs = closed.at - abortedAt
  t.equal(closed.early, true, 'the stand-in saw its socket close before the answer was complete')
  t.ok(delayMs < 1000, `abort reached the upstream in ${delayMs.toFixed(1)} ms`)
  t.equal(standIn.openStreams(), 0)

  await t.resolves(waitFor(() => gateway.logs.requests.length === 1))
  const line = gateway.logs.requests[0]!
  t.equal(line.cutBy, 'client')
  t.equal(line.userId, 'leaver')
  t.equal(line.upstreamStatus, 200)
  t.ok((line.bytesSent as number) > 0, 'bytes relayed before the cut are counted')
})

t.test('a browser that leaves before the first byte aborts the waiting upstream call', async (t) => {
  const { standIn, url: upstream } = await startStandIn(t)
  standIn.setFault({ kind: 'hang' })
  const gateway = await startGateway(t, upstream)
  const controller = new AbortController()
  const requestArrived = nextEvent(standIn.events, 'request')
  const pending = postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'impatient', signal: controller.signal })
  await requestArrived
  const upstreamClosed = nextEvent<StreamClosed>(standIn.events, 'stream-closed')
  controller.abort()
  await t.rejects(pending)
  const closed = await upstreamClosed
  t.equal(closed.early, true)

  await t.resolves(waitFor(() => gateway.logs.requests.length === 1))
  t.match(gateway.logs.requests[0], { status: 499, cutBy: 'client', userId: 'impatient' })
})
