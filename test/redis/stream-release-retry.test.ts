// Issue 14: when 2,000 streams closed at once, hundreds of slot releases failed and stayed
// counted until their lease expired. A release is now queued and retried until Redis confirms.
import { Redis } from 'ioredis'
import t from 'tap'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { SHARED_REDIS, limitsFile, redisKey, redisNamespace, redisRelay } from '../helpers/limits.js'
import { postCompletion, waitFor } from '../helpers/requests.js'

t.test('a release Redis could not take is retried until it is confirmed, long before the lease would expire', async (t) => {
  const relay = await redisRelay(t)
  const { standIn, url } = await startStandIn(t)
  standIn.setBeforeEvent(async (index) => {
    if (index === 1) await new Promise(() => undefined) // the stream stays open until the client leaves
  })
  const namespace = redisNamespace(t)
  const gateway = await startGateway(t, url, {
    env: {
      MAX_EVENT_LOOP_DELAY_MS: '0',
      REDIS_URL: relay.url,
      REDIS_NAMESPACE: namespace,
      GATEWAY_CONFIG_FILE: limitsFile({ streams: { perUser: 1, global: 100, leaseSeconds: 60 } })
    }
  })
  const redis = new Redis(SHARED_REDIS)
  t.teardown(() => redis.disconnect())
  const slots = () => redis.zcard(redisKey(namespace, 'streams:user:u1'))

  const abort = new AbortController()
  const stream = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1', signal: abort.signal })
  t.equal(stream.statusCode, 200)
  stream.body.on('error', () => undefined)
  await stream.body[Symbol.asyncIterator]().next()
  t.equal(await slots(), 1, 'the stream holds its lease')

  relay.cut()
  abort.abort()
  await waitFor(() => gateway.logs.lines.some((line) => /stream lease release failed; retrying/.test(String(line.msg))), 5000)
  t.equal(await slots(), 1, 'Redis did not get the release while cut off')

  relay.restore()
  const deadline = Date.now() + 15_000
  while ((await slots()) !== 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50)) // polling the retry, not synchronising
  t.equal(await slots(), 0, 'the retried release reached Redis (the lease had 60 s left)')
  const metrics = await gateway.app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /gateway_stream_release_retries_total [1-9]/, 'the retries are counted')
})
