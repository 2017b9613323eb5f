// Issue 20: one Agent Studio quota (~100 requests a minute per application), shared fairly.
// Before, one signed-in user within the default per-user limits locked everyone out: 101 requests
// in 1.6 s got every user refused for 60 s. Real Redis, two replicas, and a stand-in that enforces
// the quota as Agent Studio does (429 with retry-after beyond it).
import t from 'tap'
import { Redis } from 'ioredis'
import { memoryAdmission } from '../../src/limits/memory-admission.js'
import { budgetCheck } from '../../src/limits/request-limits.js'
import { NO_SHEDDING, startGateway, startStandIn } from '../helpers/gateway.js'
import { injectCompletion } from '../helpers/requests.js'
import { SHARED_REDIS, limitsFile, redisNamespace } from '../helpers/limits.js'

const BUDGET = { max: 100, windowSeconds: 60, perUser: 0, maxWaitMs: 2000 }

const complete = injectCompletion

t.test('one abusive user across two replicas is held to a tenth of the budget; twenty others are all served', async (t) => {
  const { standIn, url } = await startStandIn(t, { requestBudget: { max: 100, windowMs: 60_000 } })
  const namespace = redisNamespace(t)
  // The budget's defaults (on, 100 a minute, a tenth per user), with room in the per-route limits for the abuse.
  const policy = limitsFile({ upstreamBudget: BUDGET, routes: { completions: { max: 1000, windowSeconds: 60 } } })
  const env = { ...NO_SHEDDING, REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: namespace, GATEWAY_CONFIG_FILE: policy }
  const replicas = [await startGateway(t, url, { env, listen: false }), await startGateway(t, url, { env, listen: false })]

  const abuse = []
  for (let n = 0; n < 30; n++) abuse.push(await complete(replicas[n % 2]!, 'abuser'))
  t.same(
    abuse.map((r) => r.statusCode),
    [...Array(10).fill(200), ...Array(20).fill(429)],
    'ten served, then refused on either replica'
  )
  const refused = abuse.at(-1)!
  t.equal(refused.json().error, 'upstream_share_exhausted')
  // retry-after: true to the second, the end of the abuser's own window on Redis's clock.
  const redis = new Redis(SHARED_REDIS)
  t.teardown(() => redis.disconnect())
  const pttl = await redis.pttl(`{${namespace}}upstream:share:abuser`)
  const retry = Number(refused.headers['retry-after'])
  t.ok(pttl > 0 && Math.abs(retry - Math.ceil(pttl / 1000)) <= 1, `retry-after ${retry} s, the share's window ends in ${pttl} ms`)
  t.match(replicas[1]!.logs.requests.at(-1), { status: 429, rule: 'upstream_user_share', userId: 'abuser' })

  const others = []
  for (let user = 0; user < 20; user++) for (let n = 0; n < 2; n++) others.push(await complete(replicas[(user + n) % 2]!, `user-${user}`))
  t.same(
    others.map((r) => r.statusCode),
    Array(40).fill(200),
    'every other user is served, on both replicas'
  )
  t.equal(standIn.received.filter((r) => r.path.endsWith('/completions')).length, 50, 'Agent Studio saw 10 + 40 calls')
  t.notOk(
    abuse.concat(others).some((r) => r.json().error === 'upstream_rate_limited'),
    'Agent Studio itself never had to refuse anyone'
  )
})

t.test('priorities: chat may fill the window, history only 80 %, background work only half of it', async (t) => {
  const store = memoryAdmission()
  const budget = { max: 10, windowSeconds: 60, perUser: 0, maxWaitMs: 0 }
  const spend = async (budgetClass: 'chat' | 'history' | 'background') =>
    (await store.admit({ upstream: true, budget: budgetCheck(budget, budgetClass, undefined) })).refusal?.kind ?? 'admitted'
  const background = []
  for (let n = 0; n < 6; n++) background.push(await spend('background'))
  t.same(background, ['admitted', 'admitted', 'admitted', 'admitted', 'admitted', 'budget'], 'background work stops at half the window')
  const history = []
  for (let n = 0; n < 4; n++) history.push(await spend('history'))
  t.same(history, ['admitted', 'admitted', 'admitted', 'budget'], 'history stops at 80 %')
  t.same(
    [await spend('chat'), await spend('chat'), await spend('chat')],
    ['admitted', 'admitted', 'budget'],
    'chat keeps the last fifth, then the window is full'
  )
})

t.test('a request that finds the window full waits for the next one when it is near, instead of being refused', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, {
    env: { ...NO_SHEDDING, GATEWAY_CONFIG_FILE: limitsFile({ upstreamBudget: { max: 2, windowSeconds: 1, perUser: 0, maxWaitMs: 2000 } }) },
    listen: false
  })
  const answers = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((user) => complete(gateway, user)))
  t.same(
    answers.map((r) => r.statusCode),
    [200, 200, 200, 200],
    'the two over the window waited for the next one'
  )
  const waited = gateway.logs.requests.filter((line) => typeof line.budgetWaitMs === 'number')
  t.equal(waited.length, 2, 'their lines say how long')
  t.ok(
    waited.every((line) => Number(line.budgetWaitMs) <= 1100),
    'less than one window'
  )
  const metrics = await gateway.app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /^gateway_upstream_budget_wait_seconds_count\{class="chat"\} 2$/m)
  t.match(metrics.body, /^gateway_upstream_budget_spent_total\{group="completions",class="chat"\} 4$/m)

  const far = await startGateway(t, url, {
    env: { ...NO_SHEDDING, GATEWAY_CONFIG_FILE: limitsFile({ upstreamBudget: { max: 1, windowSeconds: 60, perUser: 0, maxWaitMs: 2000 } }) },
    listen: false
  })
  t.equal((await complete(far, 'f1')).statusCode, 200)
  const refused = await complete(far, 'f2')
  t.equal(refused.statusCode, 429, 'a window a minute away is not waited for')
  t.equal(refused.json().error, 'upstream_budget_exhausted')
  t.ok(Number(refused.headers['retry-after']) > 50)
})
