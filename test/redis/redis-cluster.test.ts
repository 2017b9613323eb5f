// @test-process: alone (starts a Redis Cluster of its own and waits for failovers: slow)
import { spawn } from 'node:child_process'
import t from 'tap'
import { keyKinds, keyPrefix, keySlot } from '../../src/redis/keys.js'
import { gatewayEnv } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'
import { nodeCommand } from '../helpers/process.js'
import { waitFor } from '../helpers/requests.js'
import { ask, liveLeases, startCluster, twoReplicas, until } from '../helpers/redis-topologies.js'

// Issue 21: pointed at a Redis Cluster, the gateway used to log "connected" and then fail every
// admission script with CROSSSLOT (every request failed open, or was refused). Against a real
// 3-master cluster with one replica each (Debian's redis-server), two replicas of the gateway must
// share limits and stream caps exactly, and survive the failover of the master that owns their keys.

const cluster = await startCluster(t, 3, 1)
const LIMITS = { routes: { completions: { max: 6, windowSeconds: 60 } }, streams: { perUser: 2, global: 100, leaseSeconds: 3 } }

t.test('two replicas on a 3-master cluster share per-user limits and stream caps exactly, with no fail-open', async (t) => {
  const s = await twoReplicas(t, { REDIS_URL: cluster.url }, LIMITS)
  for (const gateway of [s.a, s.b]) {
    const connected = gateway.logs.lines.find((line) => line.msg === 'Redis connected: limits and stream caps are shared across replicas')
    t.match(
      connected,
      { level: 30, mode: 'cluster', slot: keySlot(keyPrefix(s.namespace)) },
      'cluster mode detected, and "connected" logged after a real round trip'
    )
  }

  // Six completions allowed a minute, spent alternately on both replicas: one counter.
  const remaining: string[] = []
  for (let i = 0; i < 6; i++) {
    const response = await s.complete(i % 2 === 0 ? s.a : s.b, 'carol')
    t.equal(response.statusCode, 200)
    remaining.push(String(response.headers['x-ratelimit-remaining']))
  }
  t.same(remaining, ['5', '4', '3', '2', '1', '0'], "each replica saw the other's requests")
  const seventh = await s.complete(s.b, 'carol')
  t.equal(seventh.statusCode, 429)
  t.equal(seventh.headers['x-ratelimit-limit'], '6')

  // Two streams at once per user, whichever replica holds them.
  t.equal((await s.open(s.a, 'dave')).statusCode, 200)
  t.equal((await s.open(s.b, 'dave')).statusCode, 200)
  const third = await s.open(s.a, 'dave')
  t.equal(third.statusCode, 429, 'the third stream is refused by the shared cap')
  t.equal((await s.open(s.b, 'erin')).statusCode, 200, 'another user is not affected')
  await waitFor(() => s.requests().some((line) => line.rule === 'too_many_streams'))

  t.notOk(
    s.requests().some((line) => line.failedOpen !== undefined || line.degraded !== undefined),
    'no request line says a check was skipped'
  )
  for (const gateway of [s.a, s.b]) {
    const metrics = (await gateway.app.inject({ method: 'GET', url: '/metrics' })).body
    t.notMatch(metrics, /gateway_limit_fail_open_total\{[^}]*\} [1-9]/, 'no check failed open')
    t.notMatch(metrics, /gateway_redis_script_errors_total\{[^}]*\} [1-9]/, 'no script error')
    const ready = await gateway.app.inject({ method: 'GET', url: '/readyz' })
    t.equal(ready.statusCode, 200)
    t.same(
      ready.json().redis,
      { mode: 'cluster', state: 'connected', slot: { slot: keySlot(keyPrefix(s.namespace)), sameSlot: true }, onRedisError: 'open' },
      '/readyz reports the mode, the slot check and the policy'
    )
  }

  // The cluster's own word on the layout: every kind of key in one slot, all on that slot's master.
  const slot = keySlot(keyPrefix(s.namespace))
  for (const [kind, key] of Object.entries(keyKinds(keyPrefix(s.namespace))))
    t.equal(await ask<number>(cluster.nodes[0]!.port, 'CLUSTER', ['KEYSLOT', key]), slot, `${kind}: slot ${slot} by Redis's own CRC16`)
  const master = await cluster.masterOf(slot)
  const stored = await ask<string[]>(master.port, 'KEYS', [`${keyPrefix(s.namespace)}*`])
  t.ok(
    ['user:carol', 'route:completions:carol', 'streams:user:dave', 'streams:global'].every((key) => stored.includes(keyPrefix(s.namespace) + key)),
    'the counters and lease sets live on that master'
  )
  s.releaseAll()
})

t.test('REDIS_MODE=standalone pointed at a cluster node refuses to start, naming REDIS_MODE=cluster', async (t) => {
  const { url } = await startStandIn(t)
  // A node that does not own the namespace's slot answers MOVED to a client that is not cluster-aware.
  const namespace = 'asg-topology:moved:'
  const owner = await cluster.masterOf(keySlot(keyPrefix(namespace)))
  const other = cluster.nodes.find((node) => node !== owner)!
  await t.rejects(
    startGateway(t, url, { listen: false, env: { REDIS_URL: `redis://127.0.0.1:${other.port}`, REDIS_MODE: 'standalone', REDIS_NAMESPACE: namespace } }),
    { name: 'RedisIncompatible', message: /refused the limits scripts: MOVED [\s\S]*set REDIS_MODE=cluster/ }
  )
})

t.test('doctor on a cluster reports the mode, the slot and its master, the scripts (the ACL) and the failure policy', async (t) => {
  const { url } = await startStandIn(t)
  const namespace = 'asg-topology:doctor:'
  const slot = keySlot(keyPrefix(namespace))
  const master = await cluster.masterOf(slot)
  const [node, ...args] = nodeCommand('src/cli.ts')
  const child = spawn(node!, [...args, 'doctor'], {
    env: { PATH: process.env.PATH, ...gatewayEnv(url), REDIS_URL: cluster.url, REDIS_NAMESPACE: namespace } as NodeJS.ProcessEnv
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk.toString()))
  const code = await new Promise((resolve) => child.on('exit', resolve))
  t.equal(code, 0, output)
  t.match(output, `✓ Redis answers in cluster mode (${cluster.url.slice('redis://'.length)}, namespace ${namespace})`)
  t.match(output, `✓ slot layout: every gateway key is in slot ${slot} (hash tag {${namespace}}), on master 127.0.0.1:${master.port}`)
  t.match(output, /✓ limits scripts run \(one round trip each, \d+ ms in all\): the Redis user has every command and key it needs/)
  t.match(output, '✓ limits.onRedisError is open: while Redis cannot be reached, requests are served without the shared checks')
})

t.test(
  'the master owning the keys is killed: the failure policy (closed) holds while the cluster fails over, then limits and caps resume without a restart',
  async (t) => {
    const s = await twoReplicas(t, { REDIS_URL: cluster.url }, { ...LIMITS, onRedisError: 'closed' })
    const slot = keySlot(keyPrefix(s.namespace))
    t.equal((await s.open(s.a, 'frank')).statusCode, 200)
    t.equal((await s.open(s.b, 'frank')).statusCode, 200)
    t.equal((await s.complete(s.a, 'grace')).headers['x-ratelimit-remaining'], '5')
    const master = await cluster.masterOf(slot)
    // What a failover with no replication lag loses: nothing (the test makes sure the replica has it).
    await until('the replica to acknowledge every write', async () => (await ask<number>(master.port, 'WAIT', [1, 1000])) === 1)

    await master.kill()
    const killedAt = Date.now()
    const during = await s.complete(s.b, 'grace')
    t.equal(during.statusCode, 503, 'closed: refused while the slot has no master')
    t.match(s.b.logs.requests.at(-1), { status: 503, rule: 'redis_unavailable' })

    const promoted = await cluster.failedOver(slot, master)
    const failedOverAt = Date.now()
    t.not(promoted.port, master.port, `replica ${promoted.port} promoted ${failedOverAt - killedAt} ms after the kill`)
    let recovered: Awaited<ReturnType<typeof s.complete>> | undefined
    await until(
      'both replicas to admit again',
      async () => {
        const [a, b] = [await s.complete(s.a, 'heidi'), await s.complete(s.b, 'heidi')]
        if (a.statusCode === 200 && b.statusCode === 200) recovered = b
        return recovered !== undefined
      },
      15_000
    )
    const recoveredAt = Date.now()
    t.ok(recoveredAt - failedOverAt < 10_000, `limits back ${recoveredAt - failedOverAt} ms after the cluster promoted the replica (bound: 10 s)`)
    t.ok(recovered!.headers['x-ratelimit-limit'] === '6', 'checked, not waved through')

    // The outage outlasted the 3 s leases: the gateways renew them on reconnection (at the latest at the
    // next round, a third of a lease later), so the caps count frank's two streams again within a lease.
    const frankLeases = `${keyPrefix(s.namespace)}streams:user:frank`
    await until("frank's two leases to be live on the new master", async () => (await liveLeases(promoted.port, frankLeases)) === 2, 3000)
    t.pass(`frank's leases live again ${Date.now() - recoveredAt} ms after recovery (bound: one lease, 3 s)`)
    const capped = await s.open(s.a, 'frank')
    t.equal(capped.statusCode, 429, 'the two streams opened before the failover still count: the cap holds on the new master')
    t.notOk(
      s.requests().some((line) => line.failedOpen !== undefined),
      'closed policy: nothing was served unchecked'
    )
    for (const gateway of [s.a, s.b]) {
      const lines = gateway.logs.lines.map((line) => String(line.msg))
      const lost = lines.indexOf('Redis unavailable: applying the limits failure policy until it returns')
      t.ok(
        lost >= 0 && lines.indexOf('Redis connected: limits and stream caps are shared across replicas', lost) > lost,
        'the outage, then the reconnection, are logged'
      )
    }
    s.releaseAll()
    await until(
      "frank's slots to be released on the new master",
      async () => (await ask<number>(promoted.port, 'ZCARD', [`${keyPrefix(s.namespace)}streams:user:frank`])) === 0,
      10_000
    )
    t.equal((await s.open(s.b, 'frank')).statusCode, 200, 'released slots are free again')
    s.releaseAll()
  }
)
