import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { clientTextForLog } from '../logging/escape.js'
import type { Credentials } from '../credentials/credentials.js'
import type { AdmissionStore } from '../limits/admission.js'
import { budgetCheck } from '../limits/request-limits.js'
import type { LiveLimits } from '../config/live-limits.js'
import type { LiveAgents } from '../config/live-agents.js'
import type { Metrics } from '../metrics.js'
import type { SessionUser } from '../session/types.js'
import type { Upstream } from '../upstream/forward.js'
import { isCredentialOrBudgetError } from '../upstream/upstream-errors.js'
import type { ErasureState, ErasureStore } from './erasure-store.js'

/** How long an owner's claim lasts without renewal: a replica that died frees its erasures this late. */
const LOCK_MS = 30_000
/** Unfinished erasures whose owner is gone are looked for this often (and at start). */
const ORPHAN_SCAN_MS = 10_000
/** Upstream's own id alphabet: an id from an answer goes into a path only if it cannot become another path. */
const UPSTREAM_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/
const PAGE_SIZE = 100
/** Pages of conversations one agent may list before the erasure says it is incomplete. */
const MAX_ROUNDS = 1000
const MAX_FAILURES = 20

export interface ErasureServiceOptions {
  readonly store: ErasureStore
  readonly admission: AdmissionStore
  readonly live: LiveLimits
  /** Per-agent settings in force: each call sends its agent's upstream Origin (approved domains). */
  readonly agents: LiveAgents
  readonly upstream: Upstream
  readonly credentials: Credentials
  readonly agentIds: readonly string[]
  readonly metrics: Metrics
  readonly logger: Logger
}

/**
 * Erasure of a user's data as a paced job (issue 20): `DELETE /user-data/me` used to fan out one
 * upstream call per conversation at once, outside the budget (20 concurrent erasures made 591
 * calls against 20 budget units). Now:
 * - one erasure at a time per user (a lock in the store), however many requests ask for it;
 * - every call of it asks the budget first, in the background class (at most half of a window,
 *   so chat and history keep the rest), and waits for the next window when refused: paced, never
 *   a burst, never refused for lack of budget;
 * - it runs apart from the request that started it (a client that leaves does not stop it), and
 *   its progress is kept in the store for `GET /user-data/me/erasure`;
 * - it is idempotent (each step lists what is left) and resumable: an erasure whose owner stopped
 *   (a restart, a crash) is taken over by a replica once the owner's claim has lapsed (or at once
 *   after a graceful stop, which gives the claim back).
 *
 * Agent Studio's `DELETE /1/user-data/{userToken}` deletes messages only ("Does not delete
 * conversations": userData.yml in Algolia's spec), and conversations keep titles quoting the
 * first message: so every conversation of the user is listed (by the user's own token: all of
 * them are theirs) and deleted on every allowed agent, then the messages. Memories have no public
 * delete endpoint (docs/frontend.md, "Erasure").
 */
export class ErasureService {
  readonly #options: ErasureServiceOptions
  readonly #owner = randomUUID()
  readonly #jobs = new Map<string, Promise<ErasureState>>()
  #scanTimer: NodeJS.Timeout | undefined
  #closed = false
  /** Aborts the waits of every job at shutdown (a wait for the next window can be a minute). */
  readonly #stopping = new AbortController()

  constructor(options: ErasureServiceOptions) {
    this.#options = options
  }

  /** Starts the user's erasure unless one is already running (here or on another replica); its state now. */
  async start(user: SessionUser): Promise<{ readonly state: ErasureState; readonly job: Promise<ErasureState> | undefined }> {
    const { store } = this.#options
    const local = this.#jobs.get(user.id)
    if (local !== undefined) return { state: (await store.load(user.id)) ?? initial(), job: local }
    // Review finding: restarting a finished erasure at once spent the background budget again and
    // again (one user, many times their share). A finished one is its own answer for a window.
    const last = await store.load(user.id)
    if (
      last !== undefined &&
      last.status === 'done' &&
      Date.now() - Date.parse(last.updatedAt) < this.#options.live.current.upstreamBudget.windowSeconds * 1000
    ) {
      return { state: last, job: undefined }
    }
    if (!(await store.claim(user.id, this.#owner, LOCK_MS))) return { state: last ?? initial(), job: undefined }
    const state = initial()
    await store.save(user.id, state)
    return { state, job: this.#run(user.id, state) }
  }

  async status(userId: string): Promise<ErasureState | undefined> {
    return this.#options.store.load(userId)
  }

  /** Takes over unfinished erasures whose owner is gone: now (resolves once asked) and every ORPHAN_SCAN_MS. */
  async watchOrphans(): Promise<void> {
    if (this.#scanTimer !== undefined) return
    const scan = async () => {
      try {
        for (const userId of await this.#options.store.running()) {
          if (this.#closed || this.#jobs.has(userId)) continue
          if (!(await this.#options.store.claim(userId, this.#owner, LOCK_MS))) continue
          const state = (await this.#options.store.load(userId)) ?? initial()
          this.#options.logger.info({ userId: clientTextForLog(userId) }, 'erasure taken over: its owner stopped before it was done')
          void this.#run(userId, { ...state, status: 'running' })
        }
      } catch (error) {
        this.#options.logger.warn({ err: error }, 'erasure scan failed; trying again later')
      }
    }
    this.#scanTimer = setInterval(() => void scan(), ORPHAN_SCAN_MS)
    this.#scanTimer.unref()
    await scan()
  }

  /** Shutdown: stops every job at its next step and gives their claims back, so another replica resumes them at once. */
  async close(): Promise<void> {
    this.#closed = true
    this.#stopping.abort()
    clearInterval(this.#scanTimer)
    await Promise.allSettled(this.#jobs.values())
  }

  #run(userId: string, from: ErasureState): Promise<ErasureState> {
    const job = this.#erase(userId, from).finally(() => this.#jobs.delete(userId))
    this.#jobs.set(userId, job)
    return job
  }

  async #erase(userId: string, from: ErasureState): Promise<ErasureState> {
    const { store, upstream, credentials, agentIds, agents, logger } = this.#options
    let state = from
    const failures: string[] = [...from.failures]
    const caller = { headers: {}, user: { id: userId, via: 'bearer' as const, claims: {} } }
    // A call about an agent carries that agent's upstream Origin (approved domains); the user's own data, the deployment's.
    const headers = (userToken: boolean, agentId?: string) =>
      credentials.headersFor(caller, { userToken, jsonBody: false, origin: agents.upstreamOriginFor(agentId) })
    const progress = async (change: Partial<ErasureState>) => {
      state = { ...state, ...change, failures: failures.slice(0, MAX_FAILURES), updatedAt: new Date().toISOString() }
      await store.save(userId, state)
      // Each step keeps the claim: a replica that stops renewing frees it within LOCK_MS.
      await store.claim(userId, this.#owner, LOCK_MS)
    }
    const stopped = () => this.#closed
    try {
      for (const agentId of agentIds) {
        for (let round = 0; round < MAX_ROUNDS; round++) {
          if (stopped()) return await this.#yield(userId, state)
          // Page 1 each round: what was deleted is gone, what is left comes first.
          const listed = await this.#call(async () =>
            upstream.request({ method: 'GET', path: `/1/agents/${agentId}/conversations?page=1&limit=${PAGE_SIZE}`, headers: await headers(true, agentId) })
          )
          if (listed.statusCode !== 200) {
            failures.push(`listing on agent ${agentId}: HTTP ${listed.statusCode}`)
            break
          }
          const ids = conversationIds(listed.body)
          if (ids === undefined) {
            failures.push(`listing on agent ${agentId}: an id that is not a plain conversation id`)
            break
          }
          if (ids.length === 0) break
          let deletedThisRound = 0
          for (const id of ids) {
            if (stopped()) return await this.#yield(userId, state)
            let deleted = false
            try {
              const answer = await this.#call(async () =>
                upstream.request({ method: 'DELETE', path: `/1/agents/${agentId}/conversations/${id}`, headers: await headers(false, agentId) })
              )
              deleted = answer.statusCode >= 200 && answer.statusCode < 300
              // 404: already gone (a retry, a concurrent delete): not a failure.
              if (!deleted && answer.statusCode !== 404) failures.push(`conversation ${id} on agent ${agentId}: HTTP ${answer.statusCode}`)
            } catch (error) {
              // The gateway's credentials refused, or Agent Studio's 429 went on: the erasure stops.
              if (error === STOPPED || isCredentialOrBudgetError(error)) throw error
              failures.push(`conversation ${id} on agent ${agentId}: ${(error as Error).message}`)
            }
            if (deleted) deletedThisRound++
            await progress({ conversationsDeleted: state.conversationsDeleted + (deleted ? 1 : 0) })
          }
          // Nothing could be deleted in a whole page: listing again would loop on the same ones.
          if (deletedThisRound === 0) break
        }
      }
      if (stopped()) return await this.#yield(userId, state)
      const answer = await this.#call(async () =>
        upstream.request({ method: 'DELETE', path: `/1/user-data/${encodeURIComponent(userId)}`, headers: await headers(true) })
      )
      // 404: no messages left for this user token (issue 19): the goal is reached.
      const messagesDeleted = (answer.statusCode >= 200 && answer.statusCode < 300) || answer.statusCode === 404
      if (!messagesDeleted) failures.push(`messages: HTTP ${answer.statusCode}`)
      await progress({ messagesDeleted, status: failures.length > 0 ? 'failed' : 'done' })
    } catch (error) {
      if (error === STOPPED) return await this.#yield(userId, state)
      failures.push(isCredentialOrBudgetError(error) ? error.message : `stopped: ${(error as Error).message}`)
      logger.warn({ err: error, userId: clientTextForLog(userId) }, 'erasure failed; the user may start it again')
      await progress({ status: 'failed' }).catch(() => undefined)
    }
    await store.finish(userId, this.#owner, true).catch(() => undefined)
    return state
  }

  /** A graceful stop mid-erasure: the claim is given back, the erasure stays on the running list for the next owner. */
  async #yield(userId: string, state: ErasureState): Promise<ErasureState> {
    await this.#options.store.finish(userId, this.#owner, false).catch(() => undefined)
    return state
  }

  /**
   * One upstream call of the erasure, after its permit. Agent Studio's own 429 (another client of
   * the application spent it) set every replica's hold-off: the permit waits it out, and the call
   * is made again (at most a few times; then the erasure fails and says so).
   */
  async #call<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.#permit()
      // Shutting down: no new call (the connection pool is closing); the erasure yields at this step.
      if (this.#closed) throw STOPPED
      try {
        return await call()
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'UPSTREAM_RATE_LIMITED' || attempt >= 5 || this.#closed) throw error
      }
    }
  }

  /** One call's budget, in the background class: waits for the next window (or the hold-off's end) when refused. */
  async #permit(): Promise<void> {
    const { admission, live, metrics } = this.#options
    for (;;) {
      const budget = live.current.upstreamBudget
      let waitMs: number
      try {
        // Always asked, budget or not: the hold-off after Agent Studio's own 429 applies too.
        const verdict = await admission.admit({ upstream: true, ...(budget.max > 0 ? { budget: budgetCheck(budget, 'background', undefined) } : {}) })
        if (verdict.refusal === undefined) {
          if (budget.max > 0) metrics.upstreamBudgetSpent.inc({ group: 'userData', class: 'background' })
          return
        }
        waitMs = 'retryAfterMs' in verdict.refusal ? verdict.refusal.retryAfterMs : 1000
      } catch {
        // The store cannot answer: an erasure is never urgent enough to run unpaced.
        waitMs = 1000
      }
      if (this.#closed) return
      metrics.upstreamBudgetWait.observe({ class: 'background' }, waitMs / 1000)
      await sleep(Math.max(10, waitMs), undefined, { signal: this.#stopping.signal, ref: false }).catch(() => undefined)
    }
  }
}

/** Thrown through a job's steps when the service shuts down. */
const STOPPED = new Error('the gateway is shutting down')

function initial(): ErasureState {
  const now = new Date().toISOString()
  return { status: 'running', conversationsDeleted: 0, messagesDeleted: false, failures: [], startedAt: now, updatedAt: now }
}

/** The ids of a conversation list, or undefined when one is not a plain conversation id. */
function conversationIds(body: unknown): string[] | undefined {
  const data = (body as { data?: unknown } | undefined)?.data
  const ids: string[] = []
  for (const item of Array.isArray(data) ? data : []) {
    const id = (item as { id?: unknown } | null)?.id
    if (typeof id !== 'string' || !UPSTREAM_ID.test(id)) return undefined
    ids.push(id)
  }
  return ids
}
