// @test-process: shared (runs the README's bash one-liner)
// Regression (issue 19.9): the README's clean-up of the old owner registry (now in
// docs/operations.md, "Upgrading from a version with the ownership check"),
// `redis-cli --scan --pattern 'asg:*:conv:*' | xargs redis-cli del`, also deleted the limit keys
// of any user whose id contains ":conv:". The documented line now runs here, as written, against
// the real Redis.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import t from 'tap'
import { Redis } from 'ioredis'
import { SHARED_REDIS, redisKey, redisNamespace } from '../helpers/limits.js'

t.test("the documented clean-up line deletes the old registry's keys and no limit key named after a user", async (t) => {
  const operations = readFileSync('docs/operations.md', 'utf8')
  const line = /^redis-cli --scan --pattern .*conv:\*.*$/m.exec(operations)?.[0]
  t.ok(line, 'docs/operations.md has the line')
  const namespace = redisNamespace(t)
  const redis = new Redis(SHARED_REDIS)
  t.teardown(() => redis.disconnect())
  const old = [`${namespace}conv:abc_1`, `${namespace}conv:def-2`]
  // The limit keys as the gateway names them (inside the namespace's hash tag, issue 21).
  const kept = [redisKey(namespace, 'user:mallory:conv:x'), redisKey(namespace, 'route:completions:eve:conv:1'), redisKey(namespace, 'streams:a:conv:b')]
  for (const key of [...old, ...kept]) await redis.set(key, '1', 'EX', 600)
  await promisify(execFile)('bash', ['-c', line!], { env: { ...process.env, REDIS_NAMESPACE: namespace } })
  t.same(await redis.exists(...old), 0, 'the old registry keys are gone')
  t.same(await redis.exists(...kept), kept.length, 'every limit key is still there')
})
