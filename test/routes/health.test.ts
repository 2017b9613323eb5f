import t from 'tap'
import { requestsReceived } from '../../standin/src/request-counter.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'

t.test('/healthz answers without a session and without asking anyone', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { listen: false })
  const response = await gateway.app.inject({ method: 'GET', url: '/healthz' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { status: 'ok' })
  t.equal(requestsReceived(standIn.app), 0, 'the stand-in received no request at all, not even a probe')
})

t.test('/readyz is ready when Agent Studio answers, 503 not_ready when it cannot be reached', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const up = await startGateway(t, url, { listen: false })
  const ready = await up.app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ready', policy: { hash: ready.json().policy.hash, loadedAt: ready.json().policy.loadedAt } }, 'with the policy in force')
  t.match(ready.json().policy.hash, /^[0-9a-f]{12}$/, "the policy file's hash")
  t.ok(Date.parse(ready.json().policy.loadedAt) <= Date.now())
  t.equal(requestsReceived(standIn.app), 1, 'readiness asked Agent Studio once (the counter sees probes)')
  t.equal(standIn.received.length, 0, 'a probe no route of the stand-in records')

  await standIn.close()
  const down = await startGateway(t, url, { listen: false })
  const notReady = await down.app.inject({ method: 'GET', url: '/readyz' })
  t.equal(notReady.statusCode, 503)
  t.same(notReady.json(), {
    error: 'not_ready',
    message: 'The gateway is not ready: Agent Studio is unreachable.',
    requestId: notReady.headers['x-request-id']
  })
})
