// @test-process: alone (paced erasures wait for budget windows by design: over 10 s)
// Issue 20: erasure escaped the budget: DELETE /user-data/me fanned out one call per
// conversation at once (20 concurrent erasures made 591 upstream calls against 20 budget units;
// one of 500 conversations made 506 calls in 0.68 s). Now it is a paced job: one at a time per
// user, each call from the budget's background class, 202 with a status URL when long, going on
// when the client leaves, and taken over after a restart (its state in Redis).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { StandIn } from '../../standin/src/standin.js'
import { AGENT_ID, completionBody, sessionToken } from '../helpers/fixtures.js'
import { NO_SHEDDING, startGateway, startStandIn } from '../helpers/gateway.js'
import type { RunningGateway } from '../helpers/gateway.js'
import { SHARED_REDIS, limitsFile, redisNamespace, redisRelay } from '../helpers/limits.js'
import { tempDir } from '../helpers/temp-dir.js'

/** `count` conversations of `user` on the stand-in (owned through their user token). */
function seed(standIn: StandIn, user: string, count: number): void {
  for (let n = 0; n < count; n++) standIn.store.append(AGENT_ID, `conv_${user}_${n}`, user, { role: 'user', text: `question ${n}`, sentBy: undefined })
}
const left = (standIn: StandIn, user: string) => [...standIn.store.conversations.values()].filter((c) => c.owner === user).length

async function as(gateway: RunningGateway, user: string, method: 'DELETE' | 'GET', url: string) {
  return gateway.app.inject({ method, url, headers: { authorization: `Bearer ${await sessionToken(user)}` } })
}

/** Polls the status URL (a request that spends no budget) until the erasure is over. */
async function untilOver(gateway: RunningGateway, user: string, max = 1200) {
  for (let poll = 0; poll < max; poll++) {
    const status = await as(gateway, user, 'GET', '/agent-studio/1/user-data/me/erasure')
    if (status.statusCode !== 200) throw new Error(`the status URL answered ${status.statusCode}: ${status.body}`)
    if (status.json().status !== 'running') return status.json()
    // As a browser would poll it (the per-user limit, 600 a minute, bounds it).
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('the erasure did not end')
}

t.test('60 conversations: 202 with a status URL, paced within the background half of the budget, while another user chats', async (t) => {
  // Agent Studio's quota as the stand-in enforces it, scaled from a minute to a second so the test
  // is short (80 a second: a fixed window of the gateway's 40 can straddle two of its own). Small
  // enough that a gateway starved of CPU (load 8 on 2 cores) still fills the erasure's half of a
  // window, which is what this test is about.
  const { standIn, url } = await startStandIn(t, { requestBudget: { max: 80, windowMs: 1000 } })
  seed(standIn, 'eraser', 60)
  const env = {
    ...NO_SHEDDING,
    REDIS_URL: SHARED_REDIS,
    REDIS_NAMESPACE: redisNamespace(t),
    GATEWAY_CONFIG_FILE: limitsFile({ upstreamBudget: { max: 40, windowSeconds: 1, perUser: 0, maxWaitMs: 2000 } })
  }
  const gateway = await startGateway(t, url, { env, listen: false })

  const startedAt = Date.now()
  const started = await as(gateway, 'eraser', 'DELETE', '/agent-studio/1/user-data/me')
  t.equal(started.statusCode, 202, 'too long to wait for: accepted')
  t.equal(started.headers.location, '/agent-studio/1/user-data/me/erasure')
  t.match(started.json(), { status: 'running', statusUrl: '/agent-studio/1/user-data/me/erasure', memoriesDeleted: false })

  const chat = []
  for (let n = 0; n < 10; n++) {
    chat.push(
      (
        await gateway.app.inject({
          method: 'POST',
          url: `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${await sessionToken(`chatter-${n}`)}` },
          payload: completionBody()
        })
      ).statusCode
    )
  }
  t.same(chat, Array(10).fill(200), 'chat goes on meanwhile: the erasure may take only half of each window')

  const done = await untilOver(gateway, 'eraser')
  t.match(done, { status: 'done', conversationsDeleted: 60, messagesDeleted: true, failures: 0 })
  t.equal(left(standIn, 'eraser'), 0, 'nothing of the user is left')
  const erasureCalls = standIn.received.filter((r) => r.method === 'DELETE' || (r.method === 'GET' && r.path.endsWith('/conversations')))
  t.ok(erasureCalls.length >= 62, `${erasureCalls.length} upstream calls`)
  t.ok(Date.now() - startedAt > 2000, 'paced: 60 deletions, at most 20 a second (half of each window), take more than 2 s')
  const metrics = (await gateway.app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /^gateway_upstream_rate_limited_total 0$/m, 'Agent Studio never had to refuse a call')
  t.match(metrics, /^gateway_upstream_budget_spent_total\{group="userData",class="background"\} 6[0-9]$/m, 'every call of the erasure came from the budget')
  t.match(metrics, /^gateway_upstream_budget_wait_seconds_count\{class="background"\} [1-9]\d*$/m, 'and waited for the next window when its half was spent')
  t.comment(`60-conversation erasure: ${Date.now() - startedAt} ms`)
})

t.test('twenty concurrent erasures from one user are one erasure: one set of upstream calls', async (t) => {
  const { standIn, url } = await startStandIn(t)
  seed(standIn, 'twenty', 30)
  const gateway = await startGateway(t, url, {
    env: {
      ...NO_SHEDDING,
      GATEWAY_CONFIG_FILE: limitsFile({
        upstreamBudget: { max: 1000, windowSeconds: 60, perUser: 0, maxWaitMs: 2000 },
        routes: { userData: { max: 100, windowSeconds: 60 } }
      })
    },
    listen: false
  })
  const answers = await Promise.all(Array.from({ length: 20 }, () => as(gateway, 'twenty', 'DELETE', '/agent-studio/1/user-data/me')))
  t.ok(
    answers.every((a) => a.statusCode === 200 || a.statusCode === 202),
    answers.map((a) => a.statusCode).join(' ')
  )
  const done = await untilOver(gateway, 'twenty')
  t.match(done, { status: 'done', conversationsDeleted: 30 })
  const deletes = standIn.received.filter((r) => r.method === 'DELETE' && r.path.includes('/conversations/'))
  t.equal(deletes.length, 30, 'each conversation deleted once, not twenty times')
  t.equal(standIn.received.filter((r) => r.method === 'DELETE' && r.path.includes('/user-data/')).length, 1, 'one user-data deletion')
})

t.test('a gateway restart mid-erasure: another gateway on the same Redis takes it over and finishes it', async (t) => {
  const { standIn, url } = await startStandIn(t)
  seed(standIn, 'restarted', 120)
  const policy = join(tempDir('asg-erasure-'), 'gateway.yaml')
  writeFileSync(policy, 'limits:\n  upstreamBudget: { max: 80, windowSeconds: 1, perUser: 0, maxWaitMs: 2000 }\n')
  const env = { ...NO_SHEDDING, REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: redisNamespace(t), GATEWAY_CONFIG_FILE: policy }
  const first = await startGateway(t, url, { env, listen: false })
  t.equal((await as(first, 'restarted', 'DELETE', '/agent-studio/1/user-data/me')).statusCode, 202)
  // Part-way through (40 a second): stop the first gateway as SIGTERM would.
  while (left(standIn, 'restarted') > 90) await new Promise((resolve) => setTimeout(resolve, 20))
  await first.app.close()
  const stoppedAt = left(standIn, 'restarted')
  t.ok(stoppedAt > 0 && stoppedAt < 120, `stopped with ${stoppedAt} conversations left`)

  const second = await startGateway(t, url, { env, listen: false })
  const done = await untilOver(second, 'restarted')
  t.match(done, { status: 'done', conversationsDeleted: 120, messagesDeleted: true })
  t.equal(left(standIn, 'restarted'), 0)
  t.ok(
    second.logs.lines.some((line) => line.msg === 'erasure taken over: its owner stopped before it was done'),
    'the second gateway says it took it over'
  )
})

t.test("with the erasures' store away, DELETE and its status URL answer 503 redis_unavailable, never a 500", async (t) => {
  const { url } = await startStandIn(t)
  const relay = await redisRelay(t)
  const gateway = await startGateway(t, url, {
    env: { ...NO_SHEDDING, REDIS_URL: relay.url, REDIS_NAMESPACE: redisNamespace(t), GATEWAY_CONFIG_FILE: limitsFile({ onRedisError: 'open' }) },
    listen: false
  })
  relay.cut()
  for (const method of ['DELETE', 'GET'] as const) {
    const response = await as(gateway, 'away', method, method === 'DELETE' ? '/agent-studio/1/user-data/me' : '/agent-studio/1/user-data/me/erasure')
    t.equal(response.statusCode, 503, method)
    t.match(response.json(), { error: 'redis_unavailable' })
  }
})

t.test('an erasure finished less than a budget window ago is its own answer: a repeat starts nothing (review finding)', async (t) => {
  const { standIn, url } = await startStandIn(t)
  seed(standIn, 'repeat', 3)
  const gateway = await startGateway(t, url, {
    env: {
      ...NO_SHEDDING,
      GATEWAY_CONFIG_FILE: limitsFile({
        upstreamBudget: { max: 100, windowSeconds: 60, perUser: 0, maxWaitMs: 0 },
        routes: { userData: { max: 100, windowSeconds: 60 } }
      })
    },
    listen: false
  })
  const first = await as(gateway, 'repeat', 'DELETE', '/agent-studio/1/user-data/me')
  t.equal(first.statusCode, 200)
  t.same(first.json(), { conversationsDeleted: 3, messagesDeleted: true, memoriesDeleted: false })
  const calls = standIn.received.length
  for (let n = 0; n < 5; n++) {
    const again = await as(gateway, 'repeat', 'DELETE', '/agent-studio/1/user-data/me')
    t.equal(again.statusCode, 200)
    t.same(again.json(), { conversationsDeleted: 3, messagesDeleted: true, memoriesDeleted: false }, "the finished erasure's result")
  }
  t.equal(standIn.received.length, calls, 'no upstream call, no budget spent again')
})

t.test("a user id with bidi and line-separator characters is escaped on the erasure's own log lines (review finding)", async (t) => {
  // Nothing listens on port 9: the erasure fails at its first call and says so in the log.
  const gateway = await startGateway(t, new URL('http://127.0.0.1:9/agent-studio'), { env: NO_SHEDDING, listen: false })
  const response = await as(gateway, '\u202Eevil\u2028line\u0085x', 'DELETE', '/agent-studio/1/user-data/me')
  t.equal(response.statusCode, 502)
  const failed = gateway.logs.lines.find((line) => line.msg === 'erasure failed; the user may start it again')
  t.equal(failed?.userId, '\\u202eevil\\u2028line\\u0085x')
  t.notMatch(gateway.logs.text(), /[\u0080-\u009f\u202a-\u202e\u2028\u2029]/, 'no such character reached the log raw')
})
