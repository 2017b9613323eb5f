import { execFile, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import type { RedisOptions } from 'ioredis'
import { startGateway, startStandIn, testClient } from './gateway.js'
import type { RunningGateway } from './gateway.js'
import { freePort, limitsFile } from './limits.js'
import { postCompletion } from './requests.js'
import { tempDir } from './temp-dir.js'

/**
 * Real Redis topologies for the issue-21 tests, from Debian's redis-server and redis-sentinel:
 * each server on a free port, its files in a temp folder, waited on by asking it (PING, CLUSTER
 * INFO, SENTINEL get-master-addr-by-name), never by sleeping, and killed by PID on teardown.
 */

const run = promisify(execFile)

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface RedisProcess {
  readonly port: number
  readonly pid: number
  /** SIGKILL, and resolves once the process is gone. */
  kill(): Promise<void>
}

/** Polls `check` every 50 ms until it holds (a readiness wait on a server, not a fixed sleep). */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** One command to one server, on a connection of its own (admin: the default user). */
export async function ask<T>(port: number, command: string, args: Array<string | number>, options: RedisOptions = {}): Promise<T> {
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: true,
    ...options
  })
  redis.on('error', () => undefined)
  try {
    return (await redis.call(command, ...args)) as T
  } finally {
    redis.disconnect()
  }
}

/** Leases in a sorted set that are live now (scored by an expiry later than the server's clock), as the admission script counts them. */
export async function liveLeases(port: number, key: string, options: RedisOptions = {}): Promise<number> {
  const [seconds, micros] = await ask<[string, string]>(port, 'TIME', [], options)
  return ask<number>(port, 'ZCOUNT', [key, `(${Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)}`, '+inf'], options)
}

function spawnServer(t: Teardown, program: 'redis-server' | 'redis-sentinel', args: string[]): ChildProcess {
  const child = spawn(program, args, { stdio: 'ignore' })
  const exited = once(child, 'exit')
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGKILL')
    await exited
  })
  return child
}

function asProcess(child: ChildProcess, port: number): RedisProcess {
  const exited = once(child, 'exit')
  return {
    port,
    pid: child.pid!,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    }
  }
}

const BASE = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']

/** One redis-server, ready (answers PING). `extra`: more `--option value` pairs. */
export async function startRedis(t: Teardown, extra: string[] = [], ping: RedisOptions = {}): Promise<RedisProcess> {
  const port = await freePort()
  const dir = tempDir('asg-redis-')
  const child = spawnServer(t, 'redis-server', ['--port', String(port), '--dir', dir, ...BASE, ...extra])
  await until(`redis-server on ${port}`, async () => (await ask<string>(port, 'PING', [], ping)) === 'PONG')
  return asProcess(child, port)
}

export interface TestCluster {
  readonly nodes: RedisProcess[]
  /** The seed the gateway is given (any node works). */
  readonly url: string
  /** The node that is master of `slot` now (asked of a live node). */
  masterOf(slot: number): Promise<RedisProcess>
  /** Resolves once a master other than `old` serves `slot` and the cluster says ok. */
  failedOver(slot: number, old: RedisProcess): Promise<RedisProcess>
}

/**
 * A Redis Cluster of `masters` masters, each with `replicas` replicas: `redis-cli --cluster
 * create … --cluster-yes`, then waits until every node says `cluster_state:ok`. A node timeout of
 * 1 s makes a failover take a few seconds.
 */
export async function startCluster(t: Teardown, masters = 3, replicas = 0): Promise<TestCluster> {
  const count = masters * (1 + replicas)
  const nodes = await Promise.all(
    Array.from({ length: count }, async () => {
      const port = await freePort()
      const bus = await freePort()
      return startRedis(t, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-port',
        String(bus),
        '--cluster-node-timeout',
        '1000',
        '--cluster-replica-validity-factor',
        '0'
      ])
    })
  )
  await run('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'])
  const clusterOk = async (node: RedisProcess) => /cluster_state:ok/.test(await ask<string>(node.port, 'CLUSTER', ['INFO']))
  await until('every cluster node to say cluster_state:ok', async () => (await Promise.all(nodes.map(clusterOk))).every(Boolean))
  if (replicas > 0) {
    // A replica takes over only once it is in sync with its master.
    await until('every replica to be in sync', async () => {
      const infos = await Promise.all(nodes.map((node) => ask<string>(node.port, 'INFO', ['replication'])))
      return (
        infos.filter((info) => /role:slave/.test(info)).every((info) => /master_link_status:up/.test(info)) &&
        infos.filter((info) => /role:slave/.test(info)).length === masters * replicas
      )
    })
  }
  const alive = new Set(nodes)
  async function masterOf(slot: number): Promise<RedisProcess> {
    for (const node of alive) {
      const ranges = await ask<Array<[number, number, [string, number]]>>(node.port, 'CLUSTER', ['SLOTS']).catch(() => undefined)
      if (ranges === undefined) continue
      const range = ranges.find(([from, to]) => slot >= from && slot <= to)
      const owner = nodes.find((candidate) => candidate.port === Number(range?.[2][1]))
      if (owner !== undefined) return owner
    }
    throw new Error(`no live node knows slot ${slot}`)
  }
  return {
    nodes,
    url: `redis://127.0.0.1:${nodes[0]!.port}`,
    masterOf,
    async failedOver(slot, old) {
      alive.delete(old)
      let promoted: RedisProcess | undefined
      await until(
        `a new master for slot ${slot}`,
        async () => {
          promoted = await masterOf(slot)
          if (promoted === old) return false
          return /cluster_state:ok/.test(await ask<string>(promoted.port, 'CLUSTER', ['INFO']))
        },
        30_000
      )
      return promoted!
    }
  }
}

export interface TestSentinel {
  readonly master: RedisProcess
  readonly replica: RedisProcess
  readonly sentinels: RedisProcess[]
  readonly masterName: string
  /** REDIS_SENTINELS for the gateway. */
  readonly addresses: string
  /** The port every sentinel names as master now, or undefined while they disagree. */
  masterPort(): Promise<number | undefined>
}

/**
 * A master, one replica and three sentinels (quorum 2) monitoring it, with
 * `down-after-milliseconds` 1000 and `failover-timeout` 3000 so a failover takes a few seconds.
 * Ready once the replica is in sync and every sentinel knows the replica and the two others
 * (a failover needs them).
 */
export async function startSentinel(t: Teardown): Promise<TestSentinel> {
  const masterName = 'asg-test'
  const master = await startRedis(t)
  const replica = await startRedis(t, ['--replicaof', '127.0.0.1', String(master.port)])
  await until('the replica to be in sync', async () => /master_link_status:up/.test(await ask<string>(replica.port, 'INFO', ['replication'])))
  const dir = tempDir('asg-sentinel-')
  const sentinels = await Promise.all(
    [0, 1, 2].map(async (i) => {
      const port = await freePort()
      const file = join(dir, `sentinel-${i}.conf`)
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${masterName} 1000`,
          `sentinel failover-timeout ${masterName} 3000`,
          `sentinel parallel-syncs ${masterName} 1`,
          ''
        ].join('\n')
      )
      const child = spawnServer(t, 'redis-sentinel', [file])
      await until(`sentinel on ${port}`, async () => (await ask<string>(port, 'PING', [])) === 'PONG')
      return asProcess(child, port)
    })
  )
  await until(
    'every sentinel to know the replica and the other sentinels',
    async () => {
      const views = await Promise.all(
        sentinels.map(async (sentinel) => ({
          replicas: await ask<unknown[]>(sentinel.port, 'SENTINEL', ['REPLICAS', masterName]),
          others: await ask<unknown[]>(sentinel.port, 'SENTINEL', ['SENTINELS', masterName])
        }))
      )
      return views.every((view) => view.replicas.length === 1 && view.others.length === 2)
    },
    30_000
  )
  return {
    master,
    replica,
    sentinels,
    masterName,
    addresses: sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(','),
    async masterPort() {
      // All of them: ioredis may ask any, and a sentinel that fell into TILT mode (its timer late by
      // over 2 s on a loaded machine) keeps naming the old master for 30 s.
      const ports = await Promise.all(
        sentinels.map(async (sentinel) => Number((await ask<[string, string]>(sentinel.port, 'SENTINEL', ['GET-MASTER-ADDR-BY-NAME', masterName]))[1]))
      )
      return ports.every((port) => port === ports[0]) ? ports[0] : undefined
    }
  }
}

export interface TestCertificates {
  readonly dir: string
  readonly ca: string
  readonly serverCert: string
  readonly serverKey: string
  readonly clientCert: string
  readonly clientKey: string
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl in a temp folder. */
export async function makeCertificates(): Promise<TestCertificates> {
  const dir = tempDir('asg-tls-')
  const at = (name: string) => join(dir, name)
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir })
  await openssl(
    'req',
    '-x509',
    '-new',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=asg-test-ca'
  )
  writeFileSync(at('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  for (const [name, extension] of [
    ['server', ['-extfile', at('server.ext')]],
    ['client', []]
  ] as const) {
    await openssl(
      'req',
      '-new',
      '-nodes',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-keyout',
      at(`${name}.key`),
      '-out',
      at(`${name}.csr`),
      '-subj',
      `/CN=asg-test-${name}`
    )
    await openssl(
      'x509',
      '-req',
      '-in',
      at(`${name}.csr`),
      '-CA',
      at('ca.crt'),
      '-CAkey',
      at('ca.key'),
      '-CAcreateserial',
      '-out',
      at(`${name}.crt`),
      '-days',
      '2',
      ...extension
    )
  }
  return { dir, ca: at('ca.crt'), serverCert: at('server.crt'), serverKey: at('server.key'), clientCert: at('client.crt'), clientKey: at('client.key') }
}

/** A redis-server on TLS only (no plain port), client certificates required, the default user behind `adminPassword`. */
export async function startTlsRedis(
  t: Teardown,
  certificates: TestCertificates,
  adminPassword: string
): Promise<RedisProcess & { adminOptions: RedisOptions }> {
  const port = await freePort()
  const dir = tempDir('asg-redis-tls-')
  const child = spawnServer(t, 'redis-server', [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--dir',
    dir,
    ...BASE,
    '--tls-cert-file',
    certificates.serverCert,
    '--tls-key-file',
    certificates.serverKey,
    '--tls-ca-cert-file',
    certificates.ca,
    '--tls-auth-clients',
    'yes',
    '--requirepass',
    adminPassword
  ])
  const adminOptions: RedisOptions = {
    password: adminPassword,
    tls: { ca: readFileSync(certificates.ca), cert: readFileSync(certificates.clientCert), key: readFileSync(certificates.clientKey) }
  }
  await until(`TLS redis-server on ${port}`, async () => (await ask<string>(port, 'PING', [], adminOptions)) === 'PONG')
  return { ...asProcess(child, port), adminOptions }
}

/** Two gateways (in this process, listening) sharing one Redis topology, and a stand-in whose streams stay open until released. */
export async function twoReplicas(t: Teardown, redisEnv: Record<string, string>, limits: Record<string, unknown>) {
  const { standIn, url } = await startStandIn(t)
  const namespace = redisEnv.REDIS_NAMESPACE ?? `asg-topology:${randomUUID()}:`
  const env = { ...redisEnv, REDIS_NAMESPACE: namespace, GATEWAY_CONFIG_FILE: limitsFile(limits) }
  const [a, b] = await Promise.all([startGateway(t, url, { env }), startGateway(t, url, { env })])
  let release!: () => void
  let held = new Promise<void>((resolve) => (release = resolve))
  standIn.setBeforeEvent(async (index) => {
    if (index === 1) await held
  })
  const client = testClient(t)
  return {
    standIn,
    a: a!,
    b: b!,
    namespace,
    /** Opens a stream and waits until its first event arrived (the slot is taken). */
    async open(gateway: RunningGateway, user: string) {
      const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user })
      if (response.statusCode === 200) await response.body[Symbol.asyncIterator]().next()
      else await response.body.dump()
      return response
    },
    /** A whole answer (stream=false); the body is read. */
    async complete(gateway: RunningGateway, user: string) {
      const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user, query: 'compatibilityMode=ai-sdk-5&stream=false' })
      await response.body.dump()
      return response
    },
    releaseAll() {
      release()
      held = new Promise<void>((resolve) => (release = resolve))
    },
    /** Every request line of both replicas. */
    requests: () => [...a!.logs.requests, ...b!.logs.requests]
  }
}
