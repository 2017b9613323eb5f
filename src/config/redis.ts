import { z } from 'zod'
import type { ReadVariable } from './environment.js'

/**
 * Where the limits' Redis is and how to reach it: one Redis, a Redis Cluster, or a master found
 * through Sentinel, over TLS or not, as an ACL user or not (issue 21). Environment only (they are
 * endpoints and secrets); every problem is reported with the others, never with a secret's value.
 */

export const REDIS_MODES = ['auto', 'standalone', 'cluster', 'sentinel'] as const
export type RedisModeSetting = (typeof REDIS_MODES)[number]
/** The mode the gateway runs in once `auto` is resolved (src/redis/client.ts detects it). */
export type RedisMode = Exclude<RedisModeSetting, 'auto'>

export interface RedisAddress {
  readonly host: string
  readonly port: number
}

/** PEM material, read from the variables (or their `_FILE`s); absent parts use Node's defaults. */
export interface RedisTls {
  readonly ca: string | undefined
  readonly cert: string | undefined
  readonly key: string | undefined
}

export interface RedisConnection {
  /** `auto`: Sentinel when REDIS_SENTINELS is set, else asked of the node at REDIS_URL (cluster_enabled). */
  readonly mode: RedisModeSetting
  /** standalone: the server; cluster: any node (the others are discovered). Empty under Sentinel. */
  readonly nodes: readonly RedisAddress[]
  readonly db: number
  readonly username: string | undefined
  readonly password: string | undefined
  /** Undefined: plain TCP. */
  readonly tls: RedisTls | undefined
  readonly sentinel:
    | {
        readonly sentinels: readonly RedisAddress[]
        readonly masterName: string
        readonly username: string | undefined
        readonly password: string | undefined
      }
    | undefined
}

export interface RedisConfig {
  /** Unset: limits and stream caps are kept in this process's memory. */
  readonly connection: RedisConnection | undefined
  /** Prefix of every key, so gateways of different apps can share one Redis. */
  readonly namespace: string
}

const boolean = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1')

/** Reads every REDIS_* variable; undefined connection when none is set (memory limits). */
export function resolveRedis(read: ReadVariable, namespace: string, problems: string[]): RedisConfig {
  const url = read('REDIS_URL')
  const sentinels = read('REDIS_SENTINELS')
  const masterName = read('REDIS_SENTINEL_MASTER')
  const modeText = read('REDIS_MODE')
  const tlsText = read('REDIS_TLS')
  const variableUser = read('REDIS_USERNAME')
  const variablePassword = read('REDIS_PASSWORD')
  const tlsMaterial = { ca: read('REDIS_TLS_CA'), cert: read('REDIS_TLS_CERT'), key: read('REDIS_TLS_KEY') }
  const sentinelAuth = { username: read('REDIS_SENTINEL_USERNAME'), password: read('REDIS_SENTINEL_PASSWORD') }

  const mode = z.enum(REDIS_MODES).safeParse(modeText ?? 'auto')
  if (!mode.success) problems.push(`REDIS_MODE: one of ${REDIS_MODES.join(', ')}`)
  const tlsSetting = tlsText === undefined ? undefined : boolean.safeParse(tlsText)
  if (tlsSetting?.success === false) problems.push('REDIS_TLS: true or false')

  if (url === undefined && sentinels === undefined) {
    const stray = [
      'REDIS_MODE',
      'REDIS_SENTINEL_MASTER',
      'REDIS_USERNAME',
      'REDIS_PASSWORD',
      'REDIS_TLS',
      'REDIS_TLS_CA',
      'REDIS_TLS_CERT',
      'REDIS_TLS_KEY'
    ].filter((name) => read(name) !== undefined)
    if (stray.length > 0)
      problems.push(`${stray.join(', ')}: set without REDIS_URL or REDIS_SENTINELS, so no Redis would be used (limits would be per replica)`)
    return { connection: undefined, namespace }
  }

  const wanted = mode.success ? mode.data : 'auto'
  const viaSentinel = sentinels !== undefined
  if (viaSentinel && url !== undefined)
    problems.push(
      "REDIS_URL and REDIS_SENTINELS are both set: with Sentinel the master's address comes from the sentinels (set REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS for it), so keep one"
    )
  if (viaSentinel && wanted !== 'auto' && wanted !== 'sentinel')
    problems.push(`REDIS_MODE=${wanted} with REDIS_SENTINELS: use REDIS_MODE=sentinel (or auto), or REDIS_URL`)
  if (!viaSentinel && wanted === 'sentinel') problems.push('REDIS_MODE=sentinel needs REDIS_SENTINELS (host:port,…) and REDIS_SENTINEL_MASTER')
  if (viaSentinel && masterName === undefined) problems.push('REDIS_SENTINELS needs REDIS_SENTINEL_MASTER: the name the sentinels monitor the master under')
  if (!viaSentinel && masterName !== undefined) problems.push('REDIS_SENTINEL_MASTER is set without REDIS_SENTINELS')

  const parsed = url === undefined ? undefined : parseRedisUrl(url, problems)
  if ((parsed?.username !== undefined || parsed?.password !== undefined) && (variableUser !== undefined || variablePassword !== undefined)) {
    problems.push('REDIS_URL carries credentials and REDIS_USERNAME/REDIS_PASSWORD are set too: keep one')
  }
  if (wanted === 'cluster' && parsed !== undefined && parsed.db !== 0)
    problems.push('REDIS_URL: a Redis Cluster has only database 0; remove the /db from the URL')

  const tlsOn = tlsSetting?.success === true ? tlsSetting.data : (parsed?.tls ?? false)
  if (parsed?.tls === true && tlsSetting?.success === true && !tlsSetting.data) problems.push('REDIS_TLS=false with a rediss:// REDIS_URL: keep one')
  const material = Object.entries(tlsMaterial)
    .filter(([, value]) => value !== undefined)
    .map(([name]) => `REDIS_TLS_${name.toUpperCase()}`)
  if (!tlsOn && material.length > 0) problems.push(`${material.join(', ')}: set without TLS; use a rediss:// REDIS_URL or REDIS_TLS=true`)
  if ((tlsMaterial.cert === undefined) !== (tlsMaterial.key === undefined)) problems.push('REDIS_TLS_CERT and REDIS_TLS_KEY: a client certificate needs both')

  const sentinelAddresses = sentinels === undefined ? [] : parseAddresses(sentinels, problems)
  return {
    namespace,
    connection: {
      mode: viaSentinel ? 'sentinel' : wanted,
      nodes: parsed === undefined ? [] : [parsed.address],
      db: parsed?.db ?? 0,
      username: parsed?.username ?? variableUser,
      password: parsed?.password ?? variablePassword,
      tls: tlsOn ? tlsMaterial : undefined,
      sentinel: viaSentinel ? { sentinels: sentinelAddresses, masterName: masterName ?? '', ...sentinelAuth } : undefined
    }
  }
}

interface ParsedUrl {
  readonly address: RedisAddress
  readonly db: number
  readonly tls: boolean
  readonly username: string | undefined
  readonly password: string | undefined
}

/** `redis[s]://[user[:password]@]host[:port][/db]`. Problems never repeat the URL (it may hold a password). */
function parseRedisUrl(value: string, problems: string[]): ParsedUrl | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    problems.push('REDIS_URL: not a URL (expected redis://host:port or rediss://host:port)')
    return undefined
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    problems.push('REDIS_URL: must start with redis:// or rediss:// (TLS)')
    return undefined
  }
  const db = url.pathname === '' || url.pathname === '/' ? 0 : Number(url.pathname.slice(1))
  if (!Number.isInteger(db) || db < 0) {
    problems.push('REDIS_URL: the path is the database number (e.g. /0)')
    return undefined
  }
  if (url.hostname === '') {
    problems.push('REDIS_URL: no host')
    return undefined
  }
  return {
    address: { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port === '' ? 6379 : Number(url.port) },
    db,
    tls: url.protocol === 'rediss:',
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password)
  }
}

function parseAddresses(value: string, problems: string[]): RedisAddress[] {
  const addresses: RedisAddress[] = []
  for (const entry of value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')) {
    const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry)
    const port = Number(match?.[2])
    if (match === null || port < 1 || port > 65535) problems.push(`REDIS_SENTINELS: "${entry}" is not host:port`)
    else addresses.push({ host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port })
  }
  if (addresses.length === 0 && !problems.some((p) => p.startsWith('REDIS_SENTINELS:')))
    problems.push('REDIS_SENTINELS: list at least one sentinel as host:port')
  return addresses
}

/** For logs and doctor: where the limits live, never a credential. */
export function describeRedis(connection: RedisConnection): string {
  const where =
    connection.sentinel === undefined
      ? connection.nodes.map((node) => `${node.host}:${node.port}`).join(',')
      : `master "${connection.sentinel.masterName}" via sentinels ${connection.sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`
  return `${where}${connection.tls === undefined ? '' : ' (TLS)'}${connection.username === undefined ? '' : ` as user ${connection.username}`}`
}
