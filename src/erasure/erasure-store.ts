/**
 * Where erasures keep their state (issue 20): one erasure at a time per user, its progress for
 * the status URL, and the list of erasures still running, so that one a replica left unfinished
 * (a restart, a crash) is taken over. In Redis (src/redis/erasure-store.ts) it is shared by every
 * replica and survives a restart; in memory (below) it lasts as long as the process.
 */

export interface ErasureState {
  readonly status: 'running' | 'done' | 'failed'
  readonly conversationsDeleted: number
  readonly messagesDeleted: boolean
  /** What went wrong (ids and statuses, never content), at most 20. */
  readonly failures: readonly string[]
  readonly startedAt: string
  readonly updatedAt: string
}

export interface ErasureStore {
  /** Takes (or, for its owner, keeps) the user's erasure lock for `ttlMs`; false while another owner holds it. */
  claim(userId: string, owner: string, ttlMs: number): Promise<boolean>
  save(userId: string, state: ErasureState): Promise<void>
  load(userId: string): Promise<ErasureState | undefined>
  /** The erasure is over (or its owner stops): frees the lock if the owner still holds it; `done` leaves the running list. */
  finish(userId: string, owner: string, done: boolean): Promise<void>
  /** Users whose erasure was started and not finished (whoever runs it, if anyone). */
  running(): Promise<string[]>
}

/** How long a finished erasure's state is kept for its status URL. */
export const STATE_TTL_MS = 7 * 24 * 3600 * 1000

export function memoryErasureStore(now: () => number = Date.now): ErasureStore {
  const locks = new Map<string, { owner: string; until: number }>()
  const states = new Map<string, ErasureState>()
  const running = new Set<string>()
  return {
    async claim(userId, owner, ttlMs) {
      const lock = locks.get(userId)
      if (lock !== undefined && lock.owner !== owner && lock.until > now()) return false
      locks.set(userId, { owner, until: now() + ttlMs })
      running.add(userId)
      return true
    },
    async save(userId, state) {
      states.set(userId, state)
    },
    async load(userId) {
      return states.get(userId)
    },
    async finish(userId, owner, done) {
      if (locks.get(userId)?.owner === owner) locks.delete(userId)
      if (done) running.delete(userId)
    },
    async running() {
      return [...running]
    }
  }
}
