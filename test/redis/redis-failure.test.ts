// @test-process: shared (starts and stops a redis-server of its own on a free port)
import t from 'tap'
import type { Test } from 'tap'
import { AGENT_ID, completionBody, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'
import { limitsFile, privateRedis } from '../helpers/limits.js'

async function setup(t: Test, onRedisError: 'open' | 'closed') {
  const redis = await privateRedis(t)
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, {
    listen: false,
    env: { REDIS_URL: redis.url, GATEWAY_CONFIG_FILE: limitsFile({ routes: { completions: { max: 1000, windowSeconds: 60 } }, onRedisError }) }
  })
  const send = async () =>
    gateway.app.inject({
      method: 'POST',
      url: `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await sessionToken('u1')}` },
      payload: completionBody()
    })
  /** Polls until the gateway has noticed Redis is back and limits are enforced again. */
  async function untilLimited() {
    const deadline = Date.now() + 10_000
    for (;;) {
      const response = await send()
      if (response.headers['x-ratelimit-limit'] !== undefined) return response
      if (Date.now() > deadline) throw new Error('the gateway did not recover')
      await new Promise((resolve) => setTimeout(resolve, 100)) // polling ioredis's reconnection, not synchronising
    }
  }
  return { redis, gateway, send, untilLimited }
}

t.test('fail open: with Redis down, requests are served, logged and counted, and limits return with Redis', async (t) => {
  const { redis, gateway, send, untilLimited } = await setup(t, 'open')
  const before = await send()
  t.equal(before.statusCode, 200)
  t.equal(before.headers['x-ratelimit-limit'], '1000')

  await redis.stop()
  const during = await send()
  t.equal(during.statusCode, 200, 'served without a limit check')
  t.equal(during.headers['x-ratelimit-limit'], undefined)
  t.match(
    gateway.logs.requests.at(-1),
    { status: 200, degraded: 'redis_unavailable', failedOpen: ['ip', 'user', 'route:completions', 'streams'] },
    'the log line names each check skipped'
  )
  t.ok(
    gateway.logs.lines.some((line) => line.level === 40 && /Redis unavailable/.test(String(line.msg))),
    'the outage is logged once, as a warning'
  )
  const metrics = await gateway.app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /gateway_redis_failures_total\{policy="open"\} [1-9]/)
  for (const check of ['ip', 'user', 'route:completions', 'streams'])
    t.match(metrics.body, new RegExp(`gateway_limit_fail_open_total\\{check="${check}"\\} 1\\b`), `fail-open counted for ${check}`)

  await redis.start()
  const after = await untilLimited()
  t.equal(after.statusCode, 200)
  t.ok(gateway.logs.lines.some((line) => /Redis connected/.test(String(line.msg))))
})

t.test('fail closed: with Redis down, requests get 503 redis_unavailable, then service resumes by itself', async (t) => {
  const { redis, gateway, send, untilLimited } = await setup(t, 'closed')
  t.equal((await send()).statusCode, 200)
  await redis.stop()
  const refused = await send()
  t.equal(refused.statusCode, 503)
  t.same(refused.json(), {
    error: 'redis_unavailable',
    message: 'Usage limits cannot be checked right now; try again in a few seconds.',
    requestId: refused.headers['x-request-id']
  })
  t.equal(refused.headers['retry-after'], '5')
  t.match(gateway.logs.requests.at(-1), { status: 503, rule: 'redis_unavailable' })

  await redis.start()
  t.equal((await untilLimited()).statusCode, 200)
})
