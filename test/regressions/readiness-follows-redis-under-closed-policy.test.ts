// Issue 22: under limits.onRedisError: closed every limited request is refused while Redis is
// away, yet /readyz said ready, so the load balancer kept sending requests to be refused.
import t from 'tap'
import { startGateway, startStandIn } from '../helpers/gateway.js'
import { limitsFile, redisNamespace, redisRelay } from '../helpers/limits.js'

t.test('under onRedisError closed, /readyz is 503 while Redis is away and ready again when it returns; under open it stays ready', async (t) => {
  const { url } = await startStandIn(t)
  const relay = await redisRelay(t)
  const closed = await startGateway(t, url, {
    env: { REDIS_URL: relay.url, REDIS_NAMESPACE: redisNamespace(t), GATEWAY_CONFIG_FILE: limitsFile({ onRedisError: 'closed' }) },
    listen: false
  })
  const open = await startGateway(t, url, {
    env: { REDIS_URL: relay.url, REDIS_NAMESPACE: redisNamespace(t), GATEWAY_CONFIG_FILE: limitsFile({ onRedisError: 'open' }) },
    listen: false
  })
  const ready = async (gateway: typeof closed) => gateway.app.inject({ method: 'GET', url: '/readyz' })
  t.equal((await ready(closed)).statusCode, 200, 'ready while Redis answers')

  relay.cut()
  let refused = await ready(closed)
  // The connection's state follows real round trips and connection events: ask until it has noticed.
  for (let attempt = 0; attempt < 500 && refused.statusCode === 200; attempt++) {
    await new Promise((resolve) => setImmediate(resolve))
    refused = await ready(closed)
  }
  t.equal(refused.statusCode, 503)
  t.match(refused.json(), { error: 'not_ready', message: /Redis is unavailable and limits\.onRedisError is closed/ })
  t.equal((await ready(open)).statusCode, 200, 'under open the replica still serves (degraded), so it stays ready')

  relay.restore()
  let back = await ready(closed)
  for (let attempt = 0; attempt < 2000 && back.statusCode !== 200; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 5))
    back = await ready(closed)
  }
  t.equal(back.statusCode, 200, 'ready again once Redis answers, without a restart')
})
