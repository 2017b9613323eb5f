import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config/load-config.js'
import { gatewayEnv } from '../helpers/fixtures.js'
import { tempDir } from '../helpers/temp-dir.js'

// Found while splitting load-config.ts by concern (issue 13): REDIS_URL was read only after the
// "any problems?" check, so a problem with it (REDIS_URL_FILE unreadable or empty, or set together
// with REDIS_URL) was recorded too late and dropped. The gateway started anyway, with limits and
// stream caps kept in one replica's memory instead of Redis, and said nothing. REDIS_URL is now
// read with the other variables, before the check.

const base = gatewayEnv(new URL('http://127.0.0.1:9/agent-studio'))
const problemsOf = (env: Record<string, string | undefined>): readonly string[] => {
  try {
    loadConfig(env, { defaultConfigFile: undefined })
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return []
}

t.test('an unreadable or empty REDIS_URL_FILE, or REDIS_URL set twice, refuses the start', async (t) => {
  t.same(problemsOf({ ...base, REDIS_URL_FILE: '/nonexistent/redis-url' }), ['REDIS_URL_FILE: cannot read /nonexistent/redis-url (ENOENT)'])
  const empty = join(tempDir('asg-redis-url-'), 'redis-url')
  writeFileSync(empty, '\n')
  t.same(problemsOf({ ...base, REDIS_URL_FILE: empty }), [`REDIS_URL_FILE: ${empty} is empty`])
  t.same(problemsOf({ ...base, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_URL_FILE: empty }), ['REDIS_URL and REDIS_URL_FILE are both set: keep one'])
})

t.test('a readable REDIS_URL_FILE is the Redis address', async (t) => {
  const file = join(tempDir('asg-redis-url-'), 'redis-url')
  writeFileSync(file, 'redis://127.0.0.1:6379\n')
  t.same(loadConfig({ ...base, REDIS_URL_FILE: file }, { defaultConfigFile: undefined }).config.redis.connection?.nodes, [{ host: '127.0.0.1', port: 6379 }])
})
