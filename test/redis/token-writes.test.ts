// @test-process: shared (a private redis-server per test, so its own count of scripts is the store's alone)
// Issue 26: answers' tokens are gathered for a moment and written to Redis together, one script for
// a window however many answers it holds, summed per key; this replica's own reads see them at once;
// the last window is written when the gateway closes.
import { Redis } from 'ioredis'
import t from 'tap'
import { redisTokenStore } from '../../src/redis/token-store.js'
import { withScripts } from '../../src/redis/scripts.js'
import { dayKey, monthKey, periodsAt, topKey } from '../../src/usage/token-keys.js'
import type { TokenRecord } from '../../src/usage/token-store.js'
import { AGENT_ID, completionBody } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { privateRedis, redisKey } from '../helpers/limits.js'
import { postCompletion, waitFor } from '../helpers/requests.js'

const NOW = Date.UTC(2026, 11, 7, 10, 30)
const periods = periodsAt(NOW)
const answer = (userId: string, tokens: number): TokenRecord => ({
  userId,
  agentId: 'agent-1',
  usage: { input: tokens - 1, output: 1, reasoning: 0, cached: 0, total: tokens, cacheHit: false },
  charged: tokens,
  nowMs: NOW
})

async function scriptsRun(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats')
  return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
}

t.test('a window of answers is one script, summed per user, day, month and ranking', async (t) => {
  const server = await privateRedis(t)
  const client = withScripts(new Redis(server.url))
  const admin = new Redis(server.url)
  t.teardown(() => (client.disconnect(), admin.disconnect()))
  const namespace = 'writes:'
  const store = redisTokenStore(() => client, namespace, 60_000)
  await Promise.all([store.record(answer('warm-up', 1)), store.flush()]) // loads the script

  const before = await scriptsRun(admin)
  const written = Array.from({ length: 50 }, (_, i) => store.record(answer(i % 2 === 0 ? 'ann' : 'bob', 10)))
  t.equal(await admin.exists(redisKey(namespace, dayKey({ kind: 'user', id: 'ann' }, periods))), 0, 'nothing written while the window is open')
  await store.flush()
  await Promise.all(written)
  t.equal((await scriptsRun(admin)) - before, 1, '50 answers, one script')
  for (const user of ['ann', 'bob']) {
    t.same(
      await admin.hmget(redisKey(namespace, dayKey({ kind: 'user', id: user }, periods)), 'tokens', 'input', 'output', 'answers', 'agent:agent-1'),
      ['250', '225', '25', '25', '250'],
      `${user}'s day holds the sum of their 25 answers`
    )
    t.equal(await admin.hget(redisKey(namespace, monthKey({ kind: 'user', id: user }, periods)), 'tokens'), '250', `${user}'s month too`)
    t.ok((await admin.pttl(redisKey(namespace, dayKey({ kind: 'user', id: user }, periods)))) > 0, 'with a TTL')
  }
  t.same(await admin.zrange(redisKey(namespace, topKey('users', periods.hour)), 0, -1, 'WITHSCORES'), ['warm-up', '1', 'ann', '250', 'bob', '250'])
  t.equal(await admin.zscore(redisKey(namespace, topKey('agents', periods.hour)), 'agent-1'), '501')
})

t.test('the window closes by itself, and a read on this replica sees its own answers at once', async (t) => {
  const server = await privateRedis(t)
  const client = withScripts(new Redis(server.url))
  t.teardown(() => client.disconnect())
  const store = redisTokenStore(() => client, 'window:', 50)
  const started = performance.now()
  await store.record(answer('cy', 7))
  t.ok(performance.now() - started >= 45, 'written when its window of 50 ms closed, not before')

  const unwritten = store.record(answer('cy', 5))
  const [day] = await store.read([dayKey({ kind: 'user', id: 'cy' }, periods)])
  t.equal(day!.tokens, '12', 'the read wrote the open window first')
  await unwritten
})

t.test('the gateway writes the open window when it closes', async (t) => {
  const server = await privateRedis(t)
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { REDIS_URL: server.url, REDIS_NAMESPACE: 'close:' } })
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'dee', body: completionBody('hello') })
  t.equal(response.statusCode, 200)
  await response.body.text()
  const line = () => gateway.logs.requests.find((l) => String(l.route).endsWith('/completions'))
  await waitFor(() => line() !== undefined)
  t.ok(Number(line()?.chargedTokens) > 0, `the answer cost tokens (agent ${AGENT_ID})`)
  await gateway.app.close()
  const admin = new Redis(server.url)
  t.teardown(() => admin.disconnect())
  const today = periodsAt(Date.now())
  t.equal(
    await admin.hget(redisKey('close:', dayKey({ kind: 'user', id: 'dee' }, today)), 'tokens'),
    String(line()!.chargedTokens),
    'written before Redis was let go'
  )
})
