import type { ConnectionOptions } from 'node:tls'
import { Cluster, Redis } from 'ioredis'
import type { ClusterOptions, RedisOptions } from 'ioredis'
import type { RedisConnection, RedisMode } from '../config/redis.js'
import { withScripts } from './scripts.js'
import type { ScriptedClient } from './scripts.js'

/** How long the limits wait for Redis's answer before the failure policy applies. */
export const REDIS_ANSWER_TIMEOUT_MS = 500

/** Node's TLS options from the configured PEM material; server certificates are always verified. */
function tlsOptions(connection: RedisConnection): ConnectionOptions | undefined {
  const tls = connection.tls
  if (tls === undefined) return undefined
  return {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key })
  }
}

/** What every connection to a Redis server shares, whichever the mode (credentials, TLS, timeouts). */
function serverOptions(connection: RedisConnection): RedisOptions {
  const tls = tlsOptions(connection)
  return {
    ...(connection.username === undefined ? {} : { username: connection.username }),
    ...(connection.password === undefined ? {} : { password: connection.password }),
    ...(tls === undefined ? {} : { tls }),
    connectTimeout: 2000,
    // A backstop only: the limits wait REDIS_ANSWER_TIMEOUT_MS of Redis's own time
    // (answer-timeout.ts), which a busy event loop cannot trip.
    commandTimeout: 5000,
    // No CLIENT SETINFO on connect: one command fewer in the ACL the gateway's user needs (acl.ts).
    disableClientInfo: true
  }
}

/**
 * `auto` without Sentinel: asks the node at REDIS_URL whether it is a cluster node
 * (`INFO cluster`, `cluster_enabled:1`). Waits for the node as long as it takes (reconnecting in
 * the background; the failure policy applies meanwhile); `stop` ends the wait (shutdown).
 */
export function detectMode(connection: RedisConnection): { mode: Promise<RedisMode>; stop(): void } {
  if (connection.mode !== 'auto') return { mode: Promise.resolve(connection.mode), stop() {} }
  if (connection.sentinel !== undefined) return { mode: Promise.resolve('sentinel'), stop() {} }
  const node = connection.nodes[0]!
  const probe = new Redis({
    ...serverOptions(connection),
    host: node.host,
    port: node.port,
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000)
  })
  probe.on('error', () => undefined) // the answer (or its absence) is what counts
  const mode = probe
    .info('cluster')
    .then((info) => (/^cluster_enabled:1\b/m.test(info) ? ('cluster' as const) : ('standalone' as const)))
    .finally(() => probe.disconnect())
  return { mode, stop: () => probe.disconnect() }
}

/**
 * The limits' connection in the mode in force. Commands fail fast while Redis is away (no
 * offline queue, one retry, a short timeout) so the configured failure policy applies at once
 * instead of requests piling up; ioredis keeps reconnecting in the background, and the gateway
 * is back to shared limits as soon as Redis answers again.
 *
 * - standalone: one server; a server demoted to replica under us (READONLY) is reconnected to.
 * - sentinel: ioredis asks the sentinels for the master, and reconnects to the new one after a
 *   failover (the `+switch-master` notice, or the old master's connection dropping).
 * - cluster: any node is a seed; ioredis learns the slot map (CLUSTER SLOTS), follows MOVED/ASK
 *   while slots move, and refreshes the map when a master fails over. All our keys share one slot
 *   (keys.ts), so every script goes to that slot's master (never a replica: scaleReads master).
 */
export function createRedisClient(connection: RedisConnection, mode: RedisMode): ScriptedClient {
  const server = serverOptions(connection)
  const failFast: RedisOptions = {
    enableOfflineQueue: false,
    // Commands issued in the same tick (many concurrent requests) share one write and one read.
    enableAutoPipelining: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    reconnectOnError: (error) => error.message.startsWith('READONLY')
  }
  if (mode === 'cluster') {
    const options: ClusterOptions = {
      redisOptions: { ...server, maxRetriesPerRequest: 1 },
      enableOfflineQueue: false,
      enableAutoPipelining: false,
      scaleReads: 'master',
      clusterRetryStrategy: (attempt) => Math.min(100 + attempt * 200, 2000),
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      slotsRefreshTimeout: 2000,
      slotsRefreshInterval: 5000,
      // With TLS the certificate names the host: connect by the name the cluster announces,
      // not by an address ioredis resolved it to (ioredis's advice for ElastiCache).
      ...(connection.tls === undefined ? {} : { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) })
    }
    return withScripts(
      new Cluster(
        connection.nodes.map((node) => ({ host: node.host, port: node.port })),
        options
      )
    )
  }
  if (mode === 'sentinel') {
    const sentinel = connection.sentinel!
    const tls = server.tls
    return withScripts(
      new Redis({
        ...server,
        ...failFast,
        db: connection.db,
        name: sentinel.masterName,
        sentinels: sentinel.sentinels.map((address) => ({ host: address.host, port: address.port })),
        ...(sentinel.username === undefined ? {} : { sentinelUsername: sentinel.username }),
        ...(sentinel.password === undefined ? {} : { sentinelPassword: sentinel.password }),
        ...(tls === undefined ? {} : { enableTLSForSentinelMode: true, sentinelTLS: tls }),
        // Subscribes to the sentinels' +switch-master: follows a failover without waiting for the old master's socket to drop.
        failoverDetector: true,
        sentinelRetryStrategy: (attempt) => Math.min(attempt * 200, 2000)
      })
    )
  }
  const node = connection.nodes[0]!
  return withScripts(new Redis({ ...server, ...failFast, host: node.host, port: node.port, db: connection.db }))
}

/** The server this connection talks to for the gateway's keys (for logs, /readyz and doctor). */
export function serverOf(client: ScriptedClient, slot: number): string | undefined {
  if (client instanceof Cluster) return client.slots[slot]?.[0]
  const stream = (client as Redis & { stream?: { remoteAddress?: string; remotePort?: number } }).stream
  return stream?.remoteAddress === undefined ? undefined : `${stream.remoteAddress}:${stream.remotePort}`
}
