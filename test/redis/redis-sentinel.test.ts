// @test-process: alone (starts a Redis master, replica and three sentinels and waits for a failover: slow)
import t from 'tap'
import { keyPrefix } from '../../src/redis/keys.js'
import { ask, liveLeases, startSentinel, twoReplicas, until } from '../helpers/redis-topologies.js'

// Issue 21: Sentinel, the most common self-hosted HA set-up. A master, one replica, three
// sentinels (Debian's redis-sentinel); the master is killed, the sentinels promote the replica,
// and both gateway replicas follow it with their limits and caps intact.

t.test('the master is killed: the gateway follows the sentinels to the new master, and the limits and caps continue', async (t) => {
  const topology = await startSentinel(t)
  const s = await twoReplicas(
    t,
    { REDIS_SENTINELS: topology.addresses, REDIS_SENTINEL_MASTER: topology.masterName },
    {
      routes: { completions: { max: 10, windowSeconds: 60 } },
      streams: { perUser: 1, global: 100, leaseSeconds: 3 },
      onRedisError: 'open'
    }
  )
  for (const gateway of [s.a, s.b]) {
    t.match(
      gateway.logs.lines.find((line) => line.msg === 'Redis connected: limits and stream caps are shared across replicas'),
      { mode: 'sentinel', server: `127.0.0.1:${topology.master.port}` }
    )
  }
  const remaining: string[] = []
  for (let i = 0; i < 4; i++) remaining.push(String((await s.complete(i % 2 === 0 ? s.a : s.b, 'ivan')).headers['x-ratelimit-remaining']))
  t.same(remaining, ['9', '8', '7', '6'])
  t.equal((await s.open(s.a, 'judy')).statusCode, 200, 'judy streams (her cap is 1)')
  // A failover with no replication lag loses nothing: the test makes sure the replica has it all.
  await until('the replica to acknowledge every write', async () => (await ask<number>(topology.master.port, 'WAIT', [1, 1000])) === 1)

  await topology.master.kill()
  const during = await s.complete(s.b, 'mallory')
  t.equal(during.statusCode, 200, 'open: served while there is no master')
  t.match(
    s.b.logs.requests.at(-1),
    { degraded: 'redis_unavailable', failedOpen: ['ip', 'user', 'route:completions'] },
    'and the line says which checks were skipped'
  )

  await until('every sentinel to name the promoted replica', async () => (await topology.masterPort()) === topology.replica.port, 45_000)
  await until(
    `both gateways to be on the new master (sentinels: master ${topology.replica.port})`,
    async () => {
      const [a, b] = [await s.complete(s.a, 'mallory'), await s.complete(s.b, 'mallory')]
      return a.headers['x-ratelimit-limit'] === '10' && b.headers['x-ratelimit-limit'] === '10'
    },
    30_000
  ).catch((error: Error) => {
    // What each replica said meanwhile, for whoever reads a failure.
    const said = (gateway: typeof s.a) =>
      gateway.logs.lines
        .filter((line) => line.msg !== 'request')
        .slice(-6)
        .map((line) => `${String(line.msg)} ${JSON.stringify(line.err ?? line.server ?? '')}`)
    throw new Error(`${error.message}; a: ${said(s.a).join(' | ')}; b: ${said(s.b).join(' | ')}`)
  })
  for (const gateway of [s.a, s.b]) {
    const connected = gateway.logs.lines.filter((line) => line.msg === 'Redis connected: limits and stream caps are shared across replicas')
    t.match(connected.at(-1), { mode: 'sentinel', server: `127.0.0.1:${topology.replica.port}` }, '"connected" again, to the promoted replica')
  }

  t.equal((await s.complete(s.a, 'ivan')).headers['x-ratelimit-remaining'], '5', "ivan's counter continued where it was (5 of 10 spent)")
  // Her lease may have expired during the outage: renewed on reconnection, it is live again within a lease.
  const judyLeases = `${keyPrefix(s.namespace)}streams:user:judy`
  await until("judy's lease to be live on the new master", async () => (await liveLeases(topology.replica.port, judyLeases)) === 1, 3000)
  t.equal((await s.open(s.b, 'judy')).statusCode, 429, "judy's stream from before the failover still holds her one slot")

  // A lease the new master never received (replication lag) comes back with the next renewal,
  // a third of leaseSeconds later: the cap counts every open stream again without a restart.
  await ask(topology.replica.port, 'DEL', [judyLeases])
  t.equal(await ask<number>(topology.replica.port, 'ZCARD', [judyLeases]), 0, 'the lease is gone from the new master')
  const lostAt = Date.now()
  await until('the renewal to put the lease back', async () => (await ask<number>(topology.replica.port, 'ZCARD', [judyLeases])) === 1, 5000)
  t.ok(Date.now() - lostAt <= 1000 + 500, `back within one renewal period (leaseSeconds / 3 = 1 s): ${Date.now() - lostAt} ms`)
  t.equal((await s.open(s.a, 'judy')).statusCode, 429, 'and the cap holds again')
  s.releaseAll()
})
