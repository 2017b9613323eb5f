import type { Logger } from 'pino'
import { BlockedAddresses, StoreRefused, refusalOf } from '../limits/admission.js'
import type { AdmissionRequest, AdmissionStore, CounterCheck, CounterState, LeaseCheck, Verdict } from '../limits/admission.js'
import type { Metrics } from '../metrics.js'
import { withAnswerTimeout } from './answer-timeout.js'
import { RequestReplyError, redisErrorKind } from './error-kind.js'
import { keyPrefix } from './keys.js'
import type { LimitsCommands } from './scripts.js'
import { tickBatcher } from './tick-batcher.js'

export interface RedisAdmissionOptions {
  /** The connection's scripts; throws while there is none yet (mode still being detected). */
  readonly redis: () => LimitsCommands
  readonly namespace: string
  readonly metrics: Metrics
  readonly logger: Logger
  /** How long Redis may take to answer (its own time: see answer-timeout.ts). */
  readonly timeoutMs: number
  /** The lease length in force (live): leases are renewed every third of it. */
  readonly leaseMs: () => number
  /** Every answer and every failure of an admission script, for the connection's state (index.ts). */
  readonly report?: { answered(): void; failed(error: unknown): void }
}

/** Leases per renewal or release script: keeps one script's run short (Redis is single-threaded). */
const CHUNK = 500
const RETRY_FIRST_MS = 100
const RETRY_MAX_MS = 5000

/**
 * The admission rules of src/limits/admission.ts, shared by every replica through Redis: each request asks
 * one script (batched with every other request of the same event-loop turn), so a request costs
 * at most one round trip before its upstream call, whatever limits are on.
 *
 * Leases: a member of a per-user and a global sorted set, scored by its expiry on Redis's clock.
 * One timer renews all of this replica's leases (one script per 500); a dead replica stops
 * renewing and its leases expire. Releases never wait and are never lost: queued, sent in
 * batches, retried with backoff until Redis confirms or the lease would have expired anyway.
 */
export function redisAdmission(options: RedisAdmissionOptions): AdmissionStore & { renewNow(): void } {
  const { namespace, metrics, logger, timeoutMs } = options
  const report = options.report ?? { answered() {}, failed() {} }
  // Every key in the namespace's hash tag: one slot, so each script runs on a Redis Cluster (keys.ts).
  const prefix = keyPrefix(namespace)
  const globalLeases = `${prefix}streams:global`
  const budgetKey = `${prefix}upstream:budget`
  const holdKey = `${prefix}upstream:hold-off`
  const blocked = new BlockedAddresses()
  let heldUntil = 0
  /** Asks Redis; every answer and failure is reported, so the connection's state follows real round trips. */
  const ask = async <T>(call: (redis: LimitsCommands) => Promise<T>): Promise<T> => {
    try {
      const answer = await withAnswerTimeout(call(options.redis()), timeoutMs, metrics.redisAnswerSeconds)
      report.answered()
      return answer
    } catch (error) {
      report.failed(error)
      throw redisErrorKind(error) === 'script' && error instanceof Error ? new StoreRefused(error) : error
    }
  }

  async function askAdmit(batch: AdmissionRequest[]): Promise<Array<Verdict | StoreRefused>> {
    const keys: string[] = [globalLeases, budgetKey, holdKey]
    const args: Array<string | number> = []
    for (const r of batch) {
      // A check that is off still passes a key (never read): the prefix, so it is in the slot and in the ACL's key pattern.
      keys.push(
        prefix + (r.ip?.key ?? ''),
        prefix + (r.user?.key ?? ''),
        prefix + (r.route?.key ?? ''),
        prefix + (r.lease?.userKey ?? ''),
        prefix + (r.budget?.share?.key ?? ''),
        prefix + (r.tokens?.userDay ?? ''),
        prefix + (r.tokens?.userMonth ?? ''),
        prefix + (r.tokens?.tenantDay ?? ''),
        prefix + (r.tokens?.tenantMonth ?? '')
      )
      args.push(
        r.ip?.max ?? 0,
        r.user?.max ?? 0,
        r.user?.windowMs ?? 0,
        r.route?.max ?? 0,
        r.route?.windowMs ?? 0,
        r.lease?.id ?? '',
        r.lease?.userCap ?? 0,
        r.lease?.globalCap ?? 0,
        r.lease?.leaseMs ?? 0,
        // -1: this request calls no upstream (no hold-off, no budget); 0: budget off.
        r.upstream ? (r.budget?.max ?? 0) : -1,
        r.budget?.windowMs ?? 0,
        r.budget?.ceiling ?? 0,
        r.budget?.share?.max ?? 0,
        r.tokens?.userDaily ?? 0,
        r.tokens?.userMonthly ?? 0,
        // A tenant budget without a tenant (no SESSION_TENANT_CLAIM) is off: its key is never read.
        r.tokens?.tenantDay === undefined ? 0 : r.tokens.tenantDaily,
        r.tokens?.tenantMonth === undefined ? 0 : r.tokens.tenantMonthly
      )
    }
    const flat = await ask((redis) => redis.asgAdmit(keys.length, ...keys, ...args))
    return batch.map((r, i): Verdict | StoreRefused => {
      const [code, uc, ut, rc, rt, retry, spent, tday, tmonth] = flat.slice(9 * i, 9 * i + 9) as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number
      ]
      if (code === -1) {
        // Redis refused a command of this request only (its message in place of the user count).
        const error = new RequestReplyError(String(uc))
        report.failed(error)
        return new StoreRefused(error)
      }
      const refusal = refusalOf(code, retry, r.tokens)
      return {
        ...(tday >= 0 ? { tokens: { day: tday, month: tmonth } } : {}),
        ...(refusal === undefined ? {} : { refusal }),
        ...(uc >= 0 ? { user: { current: uc, ttlMs: ut } } : {}),
        ...(rc >= 0 ? { route: { current: rc, ttlMs: rt } } : {}),
        ...(spent >= 0 ? { budgetSpent: spent } : {}),
        leaseGranted: refusal === undefined && r.lease !== undefined
      }
    })
  }

  // One script per event-loop turn; a request whose own keys Redis refuses fails alone (scripts.ts).
  const admitBatch = tickBatcher(askAdmit)

  const countBatch = tickBatcher(async (batch: CounterCheck[]) => {
    const flat = await ask((redis) => redis.asgCount(batch.length, ...batch.map((c) => prefix + c.key), ...batch.map((c) => c.windowMs)))
    return batch.map((_c, i): CounterState => ({ current: flat[2 * i]!, ttlMs: flat[2 * i + 1]! }))
  })

  // Leases this replica holds, with the time (local clock) their last known expiry passes.
  const held = new Map<string, { lease: LeaseCheck; expiresAt: number }>()
  let renewTimer: NodeJS.Timeout | undefined
  function scheduleRenewal() {
    if (renewTimer !== undefined || held.size === 0) return
    renewTimer = setTimeout(renewAll, Math.max(1000, Math.floor(options.leaseMs() / 3)))
    renewTimer.unref()
  }
  /** One renewal of every lease held now (one script per 500); passes may overlap, renewing twice is harmless. */
  async function renewPass() {
    const entries = [...held.values()]
    for (let i = 0; i < entries.length; i += CHUNK) {
      // Leases released while an earlier chunk was on its way are not renewed (a renewal re-adds).
      const chunk = entries.slice(i, i + CHUNK).filter((e) => held.has(e.lease.id))
      if (chunk.length === 0) continue
      const leaseMs = options.leaseMs()
      const sentAt = Date.now()
      try {
        await ask((redis) =>
          redis.asgRenew(chunk.length * 2, ...chunk.flatMap((e) => [prefix + e.lease.userKey, globalLeases]), leaseMs, ...chunk.map((e) => e.lease.id))
        )
        for (const e of chunk) e.expiresAt = sentAt + leaseMs
      } catch (error) {
        // The next round retries; a lease not renewed in time simply expires (fail-safe for the caps).
        logger.warn({ err: error, leases: chunk.length }, 'stream lease renewal failed; retrying on the next round')
      }
    }
  }
  async function renewAll() {
    renewTimer = undefined
    await renewPass()
    scheduleRenewal()
  }

  const releases: Array<{ lease: LeaseCheck; expiresAt: number }> = []
  let releaseTimer: NodeJS.Timeout | undefined
  let releaseBusy = false
  let retryMs = RETRY_FIRST_MS
  function scheduleRelease(delayMs: number) {
    if (releaseTimer !== undefined || releaseBusy || releases.length === 0) return
    releaseTimer = setTimeout(flushReleases, delayMs)
  }
  async function flushReleases() {
    releaseTimer = undefined
    releaseBusy = true
    const chunk = releases.splice(0, CHUNK)
    try {
      await ask((redis) =>
        redis.asgRelease(chunk.length * 2, ...chunk.flatMap((e) => [prefix + e.lease.userKey, globalLeases]), ...chunk.map((e) => e.lease.id))
      )
      retryMs = RETRY_FIRST_MS
      releaseBusy = false
      scheduleRelease(0)
    } catch (error) {
      const now = Date.now()
      const kept = chunk.filter((e) => e.expiresAt > now)
      releases.unshift(...kept)
      metrics.releaseRetries.inc(kept.length)
      if (retryMs === RETRY_FIRST_MS)
        logger.warn({ err: error, leases: kept.length }, 'stream lease release failed; retrying until Redis confirms or the leases expire')
      releaseBusy = false
      scheduleRelease(retryMs)
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS)
    }
  }
  function release(lease: LeaseCheck, expiresAt: number) {
    releases.push({ lease, expiresAt })
    scheduleRelease(0)
  }

  return {
    async admit(request) {
      if (request.upstream && heldUntil > Date.now()) return { refusal: { kind: 'holdOff', retryAfterMs: heldUntil - Date.now() }, leaseGranted: false }
      const sentAt = Date.now()
      let verdict: Verdict
      try {
        const answer = await admitBatch(request)
        if (answer instanceof Error) throw answer
        verdict = answer
      } catch (error) {
        // The script may still run after a timeout: free the lease it might have taken (ZREM of a missing member is harmless).
        if (request.lease !== undefined) release(request.lease, sentAt + request.lease.leaseMs)
        throw error
      }
      if (verdict.refusal?.kind === 'ip') blocked.block(request.ip!.key, verdict.refusal.retryAfterMs)
      if (verdict.refusal?.kind === 'holdOff') heldUntil = Math.max(heldUntil, Date.now() + verdict.refusal.retryAfterMs)
      if (verdict.leaseGranted) {
        held.set(request.lease!.id, { lease: request.lease!, expiresAt: sentAt + request.lease!.leaseMs })
        scheduleRenewal()
      }
      return verdict
    },
    async countFailure(counter) {
      const state = await countBatch(counter)
      if (state.current >= counter.max) blocked.block(counter.key, state.ttlMs)
      return state
    },
    blockedFor: (key) => blocked.blockedFor(key),
    release(lease) {
      const entry = held.get(lease.id)
      held.delete(lease.id)
      release(lease, entry?.expiresAt ?? Date.now() + lease.leaseMs)
    },
    holdOff(ms) {
      heldUntil = Math.max(heldUntil, Date.now() + ms)
      ask((redis) => redis.asgHoldOff(holdKey, ms)).catch((error: unknown) =>
        logger.warn({ err: error }, 'could not share the upstream hold-off through Redis; this replica holds off alone')
      )
    },
    /**
     * Redis answers again after an outage (or a failover): renew every lease at once instead of at
     * the next round, so leases that expired meanwhile (an outage longer than the lease) or never
     * reached the new master count again after one round trip, not after a third of a lease.
     */
    renewNow() {
      // Not waiting for a round in flight: during an outage it is bound to time out.
      if (held.size > 0) void renewPass()
    },
    async close() {
      clearTimeout(renewTimer)
      clearTimeout(releaseTimer)
      releaseTimer = undefined
      if (releases.length > 0 && !releaseBusy) await flushReleases()
      clearTimeout(releaseTimer)
    }
  }
}
