import { Redis } from 'ioredis'
import t from 'tap'
import { pino } from 'pino'
import { createMetrics } from '../../src/metrics.js'
import { redisAdmission } from '../../src/redis/admission-store.js'
import { keyPrefix, keySlot } from '../../src/redis/keys.js'
import { withScripts } from '../../src/redis/scripts.js'
import { AGENT_ID, completionBody, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'
import { SHARED_REDIS, limitsFile, redisKey, redisNamespace } from '../helpers/limits.js'

// Issue 21: a script error that is not a connection failure (here WRONGTYPE: something else wrote
// a hash where the gateway keeps a counter) is an error line, a metric and a failed readiness,
// never a quiet fail-open; and it fails only the requests whose keys are bad.

t.test("WRONGTYPE on one user's counter: an error line, a metric, /readyz not ready, and the request line says so", async (t) => {
  const namespace = redisNamespace(t)
  const admin = new Redis(SHARED_REDIS)
  t.teardown(() => admin.disconnect())
  await admin.hset(redisKey(namespace, 'user:broken'), 'oops', '1')
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, {
    listen: false,
    env: { REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: namespace, GATEWAY_CONFIG_FILE: limitsFile({ onRedisError: 'open' }) }
  })
  const send = async (user: string) =>
    gateway.app.inject({
      method: 'POST',
      url: `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await sessionToken(user)}` },
      payload: completionBody()
    })
  t.same(
    (await gateway.app.inject({ method: 'GET', url: '/readyz' })).json().redis,
    { mode: 'standalone', state: 'connected', slot: { slot: keySlot(keyPrefix(namespace)), sameSlot: true }, onRedisError: 'open' },
    'ready before'
  )

  const broken = await send('broken')
  t.equal(broken.statusCode, 200, 'the policy (open) still applies to the request')
  t.match(
    gateway.logs.requests.at(-1),
    { degraded: 'redis_script_error', failedOpen: ['ip', 'user', 'route:completions', 'streams'] },
    'the request line says Redis refused, not that it was away'
  )
  const errors = gateway.logs.lines.filter((line) => line.msg === 'Redis refused a limits script: not a connection failure, fix the configuration')
  t.equal(errors.length, 1)
  t.match(errors[0], {
    level: 50,
    mode: 'standalone',
    err: { message: /^WRONGTYPE/ },
    hint: /something else writes into the gateway's namespace/,
    suppressed: 0
  })
  t.notOk(
    gateway.logs.lines.some((line) => line.msg === 'Redis unavailable: applying the limits failure policy until it returns'),
    'not mistaken for an outage'
  )

  await send('broken')
  t.equal(
    gateway.logs.lines.filter((line) => line.msg === 'Redis refused a limits script: not a connection failure, fix the configuration').length,
    1,
    'a second one within 10 s is counted, not logged again'
  )
  const metrics = (await gateway.app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /gateway_redis_script_errors_total\{code="WRONGTYPE"\} 2\b/)

  const ready = await gateway.app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.same(ready.json(), {
    error: 'not_ready',
    message: 'The gateway is not ready: Redis refuses the limits scripts (see the error log).',
    requestId: ready.headers['x-request-id']
  })

  const healthy = await send('fine')
  t.equal(healthy.statusCode, 200)
  t.equal(healthy.headers['x-ratelimit-limit'], '60', 'another user is still checked')
})

t.test('in one batched script, a user with a bad key fails alone: the others of the same turn are admitted and counted once', async (t) => {
  const namespace = redisNamespace(t)
  const client = withScripts(new Redis(SHARED_REDIS, { enableAutoPipelining: true }))
  t.teardown(() => client.disconnect())
  await client.hset(redisKey(namespace, 'user:broken'), 'oops', '1')
  const failures: unknown[] = []
  const store = redisAdmission({
    redis: () => client,
    namespace,
    metrics: createMetrics({ streamCaps: () => ({ perUser: 0, global: 0, leaseSeconds: 30 }) }),
    logger: pino({ level: 'silent' }),
    timeoutMs: 2000,
    leaseMs: () => 30_000,
    report: { answered() {}, failed: (error) => failures.push(error) }
  })
  t.teardown(() => store.close())
  const ask = (user: string) => store.admit({ upstream: true, user: { key: `user:${user}`, max: 5, windowMs: 60_000 } })
  // Called in the same turn: one script for the three. Redis does not roll back a failed script, so
  // failing the batch and asking again would have counted 'a' twice: each must be counted once.
  const [a, broken, b] = await Promise.allSettled([ask('a'), ask('broken'), ask('b')])
  t.match(a, { status: 'fulfilled', value: { user: { current: 1 } } })
  t.match(broken, { status: 'rejected', reason: { name: 'StoreRefused', message: /^WRONGTYPE .*\(command INCR\)$/ } })
  t.match(b, { status: 'fulfilled', value: { user: { current: 1 } } })
  t.equal(failures.length, 1, "one failure reported: the bad request's")
  t.equal(await client.get(redisKey(namespace, 'user:a')), '1', 'counted once in Redis')
})
