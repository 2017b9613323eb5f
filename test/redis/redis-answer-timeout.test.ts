// Issue 14: under load, Redis commands timed out because the gateway's own event loop was
// late, and requests were let through without their limits while Redis was healthy. The
// timeout now counts Redis's time, not ours.
import { Redis } from 'ioredis'
import { Histogram, Registry } from 'prom-client'
import t from 'tap'
import { RedisTimeout, withAnswerTimeout } from '../../src/redis/answer-timeout.js'
import { SHARED_REDIS } from '../helpers/limits.js'

const histogram = () => new Histogram({ name: 'answer_seconds', help: 'test', registers: [new Registry()] })

/** Keeps the event loop busy, as a saturated gateway does. */
function busy(ms: number) {
  const until = performance.now() + ms
  while (performance.now() < until);
}

t.test('an answer that arrived while the event loop was busy is read, not taken for a timeout', async (t) => {
  const redis = new Redis(SHARED_REDIS)
  t.teardown(() => redis.disconnect())
  await redis.ping()
  const seconds = histogram()
  const answer = withAnswerTimeout(redis.ping(), 100, seconds)
  busy(400) // Redis answers within a millisecond; the loop only looks after 400 ms
  t.equal(await answer, 'PONG')
  const observed = (await seconds.get()).values.find((v) => v.metricName === 'answer_seconds_count')
  t.equal(observed?.value, 1, 'the answer time was observed')
})

t.test("a Redis that does not answer times out, with the wait and the loop's lateness said", async (t) => {
  const started = performance.now()
  const error = await withAnswerTimeout(new Promise(() => undefined), 50, histogram()).catch((e: unknown) => e)
  t.type(error, RedisTimeout)
  t.ok(performance.now() - started >= 49, 'not before its time (timers may run a fraction of a millisecond early)')
  t.match((error as RedisTimeout).message, /^Redis did not answer within \d+ ms$/)
  t.ok((error as RedisTimeout).timerLateMs >= 0)
})

t.test('a Redis error is passed on as it is', async (t) => {
  const failure = new Error('connection refused')
  t.equal(await withAnswerTimeout(Promise.reject(failure), 50, histogram()).catch((e: unknown) => e), failure)
})
