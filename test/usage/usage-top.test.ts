// Issue 24: `agent-studio-gateway usage top` ranks the heaviest users and agents over a window,
// from what every replica wrote to Redis.
import t from 'tap'
import { Redis } from 'ioredis'
import { AGENT_ID, completionBody } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { postCompletion } from '../helpers/requests.js'
import { SHARED_REDIS, limitsFile, redisKey, redisNamespace } from '../helpers/limits.js'
import { runUsage } from '../../src/usage-cli.js'
import { topKey } from '../../src/usage/token-keys.js'

t.test('the heaviest users and agents, over the window asked, from every replica', async (t) => {
  const { url } = await startStandIn(t)
  const namespace = redisNamespace(t)
  const env = { REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: namespace, GATEWAY_CONFIG_FILE: limitsFile({}) }
  const replicas = [await startGateway(t, url, { env }), await startGateway(t, url, { env })]
  const client = testClient(t)
  const spend = async (replica: number, user: string, tokens: number) => {
    const response = await postCompletion({ gatewayUrl: replicas[replica]!.url, dispatcher: client, user, body: completionBody(`q [tokens=${tokens}]`) })
    await response.body.text()
  }
  await spend(0, 'heavy', 1000)
  await spend(1, 'heavy', 1000)
  await spend(1, 'light', 10)
  await spend(0, 'medium', 500)

  const now = Date.now()
  // A user who spent a lot two days ago: inside a 72-hour window, outside a 24-hour one.
  const redis = new Redis(SHARED_REDIS)
  t.teardown(() => redis.disconnect())
  const old = new Date(now - 48 * 3_600_000).toISOString().slice(0, 13)
  await redis.zincrby(redisKey(namespace, topKey('users', old)), 99_999, 'last-week-whale')
  await redis.pexpire(redisKey(namespace, topKey('users', old)), 60_000)

  const run = async (...argv: string[]) => {
    const lines: string[] = []
    let code = -1
    // The usage writes follow the answers: read until every one is in.
    for (let i = 0; i < 100; i++) {
      lines.length = 0
      code = await runUsage(
        argv,
        replicas[0]!.config,
        (line) => lines.push(line),
        () => now
      )
      if (code !== 0 || !argv.includes('--json') || JSON.parse(lines[0]!).top.length >= 3) break
    }
    return { code, lines }
  }
  const users = await run('top', '--json')
  t.equal(users.code, 0)
  t.same(JSON.parse(users.lines[0]!), {
    by: 'users',
    hours: 24,
    top: [
      { id: 'heavy', tokens: 2024 },
      { id: 'medium', tokens: 512 },
      { id: 'light', tokens: 22 }
    ]
  })

  const table = await run('top', '--limit', '2')
  t.same(table.lines, ['heaviest users, last 24 h (tokens charged, every replica)', '  rank  tokens  user', '     1    2024  heavy', '     2     512  medium'])

  const wider = await run('top', '--hours', '72', '--limit', '1', '--json')
  t.same(JSON.parse(wider.lines[0]!).top, [{ id: 'last-week-whale', tokens: 99_999 }], 'the window reaches back as far as asked')

  const agents = await run('top', '--by', 'agents', '--json')
  t.same(JSON.parse(agents.lines[0]!).top, [{ id: AGENT_ID, tokens: 2558 }])
  t.same(await redis.keys(`{${namespace}}usage:top:scratch:*`), [], 'no scratch key left behind')
})

t.test('bad arguments and a gateway without Redis are explained, with exit code 2', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { listen: false })
  const lines: string[] = []
  t.equal(await runUsage(['top', '--by', 'users'], gateway.config, (line) => lines.push(line)), 2)
  t.match(lines.join('\n'), /set REDIS_URL/)
  for (const argv of [['bottom'], ['top', '--hours', '0'], ['top', '--hours', '1000'], ['top', '--by', 'ip'], ['top', '--limit', 'x'], ['top', '--colour']]) {
    lines.length = 0
    t.equal(await runUsage(argv, gateway.config, (line) => lines.push(line)), 2, argv.join(' '))
    t.match(lines.join('\n'), /usage: agent-studio-gateway usage top/)
  }
})
