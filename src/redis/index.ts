import type { Logger } from 'pino'
import type { RedisConnection, RedisMode } from '../config/redis.js'
import type { AdmissionStore } from '../limits/admission.js'
import type { LiveLimits } from '../config/live-limits.js'
import type { Metrics } from '../metrics.js'
import { redisAdmission } from './admission-store.js'
import { redisTokenStore } from './token-store.js'
import type { TokenStore } from '../usage/token-store.js'
import { redisApprovalStore } from './approval-store.js'
import type { ApprovalStore } from '../approvals/approval-store.js'
import { redisErasureStore } from './erasure-store.js'
import type { ErasureStore } from '../erasure/erasure-store.js'
import { REDIS_ANSWER_TIMEOUT_MS, createRedisClient, detectMode, serverOf } from './client.js'
import { slotLayout, probeScripts } from './diagnose.js'
import { redisErrorKind, scriptErrorCode, scriptErrorHint } from './error-kind.js'
import type { LimitsCommands, ScriptedClient } from './scripts.js'

export interface RedisOptions {
  readonly connection: RedisConnection
  /** Prefix of every key (inside its hash tag, keys.ts), so deployments can share a Redis. */
  readonly namespace: string
  readonly live: LiveLimits
  readonly metrics: Metrics
  readonly logger: Logger
}

/** What /readyz reports about Redis (issue 21: the mode, the slot check, the policy in force). */
export interface RedisHealth {
  /** `detecting`: REDIS_MODE=auto and the node has not answered yet. */
  readonly mode: RedisMode | 'detecting'
  /** `connected`: a real script round trip succeeded since the last connection failure. */
  readonly state: 'connecting' | 'connected' | 'unavailable'
  /** The slot of every gateway key, and whether they all really share it (keys.ts). */
  readonly slot: { readonly slot: number; readonly sameSlot: boolean }
  readonly onRedisError: 'open' | 'closed'
  /** Why this replica is not ready: Redis refused a script (not a connection failure) recently. */
  readonly problem?: string
}

/** Everything the gateway keeps in Redis, built on one connection. */
export interface GatewayRedis {
  /** The limits and stream caps, shared by every replica. */
  readonly admission: AdmissionStore
  /** Erasures' locks and progress, shared by every replica (src/erasure/). */
  readonly erasures: ErasureStore
  /** Token usage and budgets (issue 24), shared by every replica. */
  readonly tokens: TokenStore
  /** Tool approval bindings (issue 24). */
  readonly approvals: ApprovalStore
  health(): RedisHealth
  /**
   * Start-up: waits (3 s at most) for the mode and one scripted round trip. Redis away: says so, and
   * the failure policy applies until it answers. Redis answering but refusing the scripts (ACL,
   * cluster misfit): rejects with RedisIncompatible, and the gateway does not start.
   */
  waitUntilReady(): Promise<void>
  /** Shutdown: sends the stream releases still queued, then disconnects. */
  close(): Promise<void>
}

/** Redis answered the start-up round trip with a refusal: the gateway would fail every request. */
export class RedisIncompatible extends Error {
  readonly code = 'redis_incompatible'
  constructor(
    readonly mode: RedisMode | 'detecting',
    cause: Error
  ) {
    super(`Redis (${mode}) refused the limits scripts: ${cause.message}\n  ${scriptErrorHint(cause)}`, { cause })
    this.name = 'RedisIncompatible'
  }
}

/** How long a script error keeps /readyz failing after it happened. */
export const SCRIPT_ERROR_NOT_READY_MS = 15_000
/** At most one error line per error code this often (the metric counts every one). */
const SCRIPT_ERROR_LOG_EVERY_MS = 10_000
const START_WAIT_MS = 3000
const PROBE_TIMEOUT_MS = 2000

/**
 * The one place Redis is connected. Commands fail fast while it is away (client.ts); what a
 * request then gets, served without its checks or refused, is limits.onRedisError, decided
 * per request by the limiters (src/limits/request-limits.ts), not here.
 *
 * The connection's state follows real round trips, not socket events alone (issue 21: a gateway
 * said "connected" and then failed every script with CROSSSLOT): "connected" is logged when a
 * script round trip succeeds, once after each outage; a connection failure is a warning, once per
 * outage; a script error (Redis answered and refused) is an error line, a metric and a failed
 * readiness for SCRIPT_ERROR_NOT_READY_MS.
 */
export function connectRedis(options: RedisOptions): GatewayRedis {
  const { connection, namespace, live, metrics, logger } = options
  const layout = slotLayout(namespace)
  let mode: RedisMode | 'detecting' =
    connection.mode === 'auto' && connection.sentinel === undefined
      ? 'detecting'
      : connection.sentinel === undefined
        ? (connection.mode as RedisMode)
        : 'sentinel'
  let client: ScriptedClient | undefined
  let state: RedisHealth['state'] = 'connecting'
  let closed = false
  let lastScriptError: { at: number; message: string } | undefined
  const lastLogged = new Map<string, { at: number; suppressed: number }>()

  function answered() {
    if (state === 'connected') return
    // Back after an outage: leases may have expired or been lost in a failover (admission-store.ts).
    if (state === 'unavailable') admission.renewNow()
    state = 'connected'
    metrics.redisUp.set(1)
    logger.info(
      { mode, server: client === undefined ? undefined : serverOf(client, layout.slot), slot: layout.slot },
      'Redis connected: limits and stream caps are shared across replicas'
    )
  }

  function failed(error: unknown) {
    if (closed) return
    if (redisErrorKind(error) === 'connection') {
      metrics.redisUp.set(0)
      if (state !== 'unavailable') logger.warn({ err: error }, 'Redis unavailable: applying the limits failure policy until it returns')
      state = 'unavailable'
      return
    }
    const code = scriptErrorCode(error)
    metrics.redisScriptErrors.inc({ code })
    const message = error instanceof Error ? error.message : String(error)
    lastScriptError = { at: Date.now(), message }
    const logged = lastLogged.get(code)
    if (logged !== undefined && Date.now() - logged.at < SCRIPT_ERROR_LOG_EVERY_MS) {
      logged.suppressed++
      return
    }
    lastLogged.set(code, { at: Date.now(), suppressed: 0 })
    logger.error(
      { err: error, mode, hint: scriptErrorHint(error), suppressed: logged?.suppressed ?? 0 },
      'Redis refused a limits script: not a connection failure, fix the configuration'
    )
  }

  const scripted = (): LimitsCommands => {
    if (client === undefined) throw new Error('Redis: the mode is not known yet (REDIS_MODE=auto and the node has not answered)')
    return client
  }
  const erasures = redisErasureStore(scripted, namespace)
  const tokens = redisTokenStore(scripted, namespace)
  const approvals = redisApprovalStore(scripted, namespace)
  const admission = redisAdmission({
    redis: scripted,
    namespace,
    metrics,
    logger,
    timeoutMs: REDIS_ANSWER_TIMEOUT_MS,
    leaseMs: () => live.current.streams.leaseSeconds * 1000,
    report: { answered, failed }
  })

  /** The first probe's outcome, for start-up; later probes (after each reconnection) only report. */
  let firstProbe: ((outcome: 'ok' | 'unavailable' | Error) => void) | undefined
  const started = new Promise<'ok' | 'unavailable' | Error>((resolve) => (firstProbe = resolve))
  async function probe() {
    if (client === undefined || closed) return
    const result = await probeScripts(client, namespace, PROBE_TIMEOUT_MS)
    if (closed) return
    if (result.outcome === 'ok') answered()
    else failed(result.error)
    firstProbe?.(result.outcome === 'ok' ? 'ok' : result.outcome === 'script' ? result.error : 'unavailable')
    firstProbe = undefined
  }

  /**
   * Connects in the mode detected. ioredis reconnects by itself, but one race ends a client for
   * good: Sentinel's +switch-master arriving while it is reconnecting to the dead master closes the
   * connector under the attempt, and the client goes to `end` ("Connection is closed." on every
   * command from then on; ioredis issue 1683 describes the symptom). A client that ends without our
   * asking is replaced by a new one, which asks the sentinels (or the cluster) afresh.
   */
  function start(detected: RedisMode) {
    const current = createRedisClient(connection, detected)
    client = current
    current.on('ready', () => void probe())
    const lost = (error?: Error) => {
      if (closed || client !== current) return
      failed(error ?? new Error('Redis connection closed'))
    }
    current.on('error', lost)
    current.on('close', () => lost())
    current.on('end', () => {
      if (closed || client !== current) return
      logger.warn({ mode: detected }, 'Redis client stopped reconnecting; a new one takes over')
      current.removeAllListeners()
      current.on('error', () => undefined)
      start(detected)
    })
  }

  const detection = detectMode(connection)
  detection.mode.then(
    (detected) => {
      if (closed) return
      mode = detected
      start(detected)
    },
    (error: unknown) => {
      if (closed) return
      failed(error)
      firstProbe?.(redisErrorKind(error) === 'script' && error instanceof Error ? error : 'unavailable')
    }
  )

  return {
    admission,
    erasures,
    tokens,
    approvals,
    health() {
      const scriptErrorRecent = lastScriptError !== undefined && Date.now() - lastScriptError.at < SCRIPT_ERROR_NOT_READY_MS
      return {
        mode,
        state,
        slot: { slot: layout.slot, sameSlot: layout.strays.length === 0 },
        onRedisError: live.current.onRedisError,
        ...(scriptErrorRecent ? { problem: `Redis refused a limits script: ${lastScriptError!.message}` } : {})
      }
    },
    async waitUntilReady() {
      let timer: NodeJS.Timeout | undefined
      const outcome = await Promise.race([started, new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, START_WAIT_MS, 'timeout')))])
      clearTimeout(timer)
      if (outcome instanceof Error) throw new RedisIncompatible(mode, outcome)
      if (outcome !== 'ok') logger.warn(`Redis not reachable at start; the limits failure policy (${live.current.onRedisError}) applies until it is`)
    },
    async close() {
      await admission.close()
      // The last answers' tokens (a failed write is logged and counted by the usage meter).
      await tokens.flush()
      closed = true
      detection.stop()
      client?.disconnect()
    }
  }
}
