import type { ErasureState, ErasureStore } from '../erasure/erasure-store.js'
import { STATE_TTL_MS } from '../erasure/erasure-store.js'
import { keyPrefix } from './keys.js'
import type { LimitsCommands } from './scripts.js'

/**
 * Erasures' state in Redis (issue 20), in the namespace's hash tag like every other key (keys.ts),
 * through scripts so that the ACL docs/operations.md lists stays derived from them (acl.ts): the lock
 * (`erasure:lock:<user>`, owner and expiry), the progress (`erasure:state:<user>`, JSON) and the
 * set of erasures not finished (`erasure:running`).
 */
export function redisErasureStore(redis: () => LimitsCommands, namespace: string): ErasureStore {
  const prefix = keyPrefix(namespace)
  const lock = (userId: string) => `${prefix}erasure:lock:${userId}`
  const state = (userId: string) => `${prefix}erasure:state:${userId}`
  const running = `${prefix}erasure:running`
  return {
    async claim(userId, owner, ttlMs) {
      return (await redis().asgErasureClaim(lock(userId), running, userId, owner, ttlMs)) === 1
    },
    async save(userId, value) {
      await redis().asgErasureSave(state(userId), JSON.stringify(value), STATE_TTL_MS)
    },
    async load(userId) {
      const text = await redis().asgErasureLoad(state(userId))
      return text === null ? undefined : (JSON.parse(text) as ErasureState)
    },
    async finish(userId, owner, done) {
      await redis().asgErasureFinish(lock(userId), running, userId, owner, done ? 1 : 0)
    },
    async running() {
      return redis().asgErasureRunning(running)
    }
  }
}
