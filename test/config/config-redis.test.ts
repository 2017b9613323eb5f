import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config/load-config.js'
import { describeRedis } from '../../src/config/redis.js'
import { gatewayEnv } from '../helpers/fixtures.js'
import { tempDir } from '../helpers/temp-dir.js'

// Issue 21: the Redis connection settings (src/config/redis.ts), each problem named with the others,
// never with a secret's value.

const base = gatewayEnv(new URL('http://127.0.0.1:9/agent-studio'))
function load(env: Record<string, string | undefined>) {
  try {
    return { config: loadConfig({ ...base, ...env }, { defaultConfigFile: undefined }).config, problems: [] as readonly string[] }
  } catch (error) {
    if (error instanceof ConfigError) return { config: undefined, problems: error.problems }
    throw error
  }
}

t.test('URLs, credentials, TLS and Sentinel resolve to one connection', async (t) => {
  const pem = join(tempDir('asg-redis-config-'), 'ca.pem')
  writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n')
  const cases: Array<[string, Record<string, string>, Record<string, unknown>]> = [
    [
      'a plain URL, auto mode',
      { REDIS_URL: 'redis://cache.internal:6380/2' },
      { mode: 'auto', nodes: [{ host: 'cache.internal', port: 6380 }], db: 2, username: undefined, password: undefined, tls: undefined, sentinel: undefined }
    ],
    [
      'credentials in a rediss:// URL, percent-decoded',
      { REDIS_URL: 'rediss://gw:p%40ss@10.0.0.5', REDIS_TLS_CA_FILE: pem },
      {
        nodes: [{ host: '10.0.0.5', port: 6379 }],
        username: 'gw',
        password: 'p@ss',
        tls: { ca: '-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----', cert: undefined, key: undefined }
      }
    ],
    [
      'credentials as variables, cluster mode',
      { REDIS_URL: 'redis://[::1]:7000', REDIS_MODE: 'cluster', REDIS_USERNAME: 'gw', REDIS_PASSWORD: 'secret' },
      { mode: 'cluster', nodes: [{ host: '::1', port: 7000 }], username: 'gw', password: 'secret' }
    ],
    [
      "Sentinel, with TLS and the sentinels' own password",
      { REDIS_SENTINELS: 's1:26379, s2:26380', REDIS_SENTINEL_MASTER: 'main', REDIS_SENTINEL_PASSWORD: 'sp', REDIS_TLS: 'true' },
      {
        mode: 'sentinel',
        nodes: [],
        tls: { ca: undefined, cert: undefined, key: undefined },
        sentinel: {
          sentinels: [
            { host: 's1', port: 26379 },
            { host: 's2', port: 26380 }
          ],
          masterName: 'main',
          username: undefined,
          password: 'sp'
        }
      }
    ]
  ]
  for (const [name, env, expected] of cases) {
    const { config, problems } = load(env)
    t.same(problems, [], name)
    t.match(config?.redis.connection, expected, name)
  }
  t.equal(load({ REDIS_URL: 'redis://cache.internal:6380' }).config?.redis.namespace, `asg:${base.ALGOLIA_APP_ID}:`)
})

t.test('every Redis problem is reported at once, naming its variable and never the password', async (t) => {
  const cases: Array<[Record<string, string>, string[]]> = [
    [{ REDIS_URL: 'http://u:hunter2@cache:6379' }, ['REDIS_URL: must start with redis:// or rediss:// (TLS)']],
    [{ REDIS_URL: 'redis://cache', REDIS_MODE: 'replicated' }, ['REDIS_MODE: one of auto, standalone, cluster, sentinel']],
    [
      { REDIS_URL: 'redis://gw:hunter2@cache', REDIS_PASSWORD: 'other' },
      ['REDIS_URL carries credentials and REDIS_USERNAME/REDIS_PASSWORD are set too: keep one']
    ],
    [{ REDIS_URL: 'redis://cache/3', REDIS_MODE: 'cluster' }, ['REDIS_URL: a Redis Cluster has only database 0; remove the /db from the URL']],
    [{ REDIS_URL: 'rediss://cache', REDIS_TLS: 'false' }, ['REDIS_TLS=false with a rediss:// REDIS_URL: keep one']],
    [
      { REDIS_URL: 'redis://cache', REDIS_TLS_CERT: 'pem' },
      ['REDIS_TLS_CERT: set without TLS; use a rediss:// REDIS_URL or REDIS_TLS=true', 'REDIS_TLS_CERT and REDIS_TLS_KEY: a client certificate needs both']
    ],
    [
      { REDIS_SENTINELS: 's1' },
      ['REDIS_SENTINELS needs REDIS_SENTINEL_MASTER: the name the sentinels monitor the master under', 'REDIS_SENTINELS: "s1" is not host:port']
    ],
    [
      { REDIS_SENTINELS: 's1:1', REDIS_SENTINEL_MASTER: 'm', REDIS_URL: 'redis://cache', REDIS_MODE: 'cluster' },
      [
        "REDIS_URL and REDIS_SENTINELS are both set: with Sentinel the master's address comes from the sentinels (set REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS for it), so keep one",
        'REDIS_MODE=cluster with REDIS_SENTINELS: use REDIS_MODE=sentinel (or auto), or REDIS_URL'
      ]
    ],
    [
      { REDIS_MODE: 'sentinel', REDIS_PASSWORD: 'x' },
      ['REDIS_MODE, REDIS_PASSWORD: set without REDIS_URL or REDIS_SENTINELS, so no Redis would be used (limits would be per replica)']
    ]
  ]
  for (const [env, expected] of cases) {
    const { problems } = load(env)
    t.same(problems, expected, JSON.stringify(env))
    t.notMatch(problems.join('\n'), /hunter2/, 'no password in a problem')
  }
})

t.test('what the start-up line says about Redis names the place and the user, never the password', async (t) => {
  const { config } = load({ REDIS_URL: 'rediss://gw:hunter2@cache.internal:6380' })
  t.equal(describeRedis(config!.redis.connection!), 'cache.internal:6380 (TLS) as user gw')
  const sentinel = load({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_MASTER: 'main', REDIS_PASSWORD: 'hunter2' }).config!
  t.equal(describeRedis(sentinel.redis.connection!), 'master "main" via sentinels s1:26379,s2:26379')
})
