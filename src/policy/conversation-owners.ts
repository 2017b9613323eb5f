import type { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import type { Logger } from 'pino'

/**
 * Who owns each conversation id the gateway has seen. An owner never changes while the
 * conversation exists, so a local cache in front of Redis is always right (a deleted id is
 * forgotten locally; other replicas keep their entry until it ages out, which can only
 * refuse, never allow).
 */
export interface ConversationOwners {
  ownerOf(agentId: string, conversationId: string): Promise<string | undefined>
  /** Records `userId` as the owner unless someone already is; returns the owner. */
  claim(agentId: string, conversationId: string, userId: string): Promise<string>
  forget(agentId: string, conversationId: string): Promise<void>
}

const LOCAL_ENTRIES = 100_000
const LOCAL_TTL_MS = 10 * 60_000
/** Conversations outlive sessions: remember their owners for half a year. */
const REDIS_TTL_SECONDS = 180 * 24 * 3600

export function memoryConversationOwners(): ConversationOwners {
  const owners = new LRUCache<string, string>({ max: LOCAL_ENTRIES })
  return {
    async ownerOf(agentId, id) {
      return owners.get(`${agentId}:${id}`)
    },
    async claim(agentId, id, userId) {
      const key = `${agentId}:${id}`
      const existing = owners.get(key)
      if (existing !== undefined) return existing
      owners.set(key, userId)
      return userId
    },
    async forget(agentId, id) {
      owners.delete(`${agentId}:${id}`)
    }
  }
}

const CLAIM = `
local owner = redis.call('GET', KEYS[1])
if owner then return owner end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ARGV[1]
`

/** Shared by every replica; when Redis is unreachable, an unknown id is checked upstream (never assumed). */
export function redisConversationOwners(redis: Redis, namespace: string, logger: Logger): ConversationOwners {
  redis.defineCommand('claimConversation', { numberOfKeys: 1, lua: CLAIM })
  const commands = redis as unknown as Redis & { claimConversation(key: string, owner: string, ttl: number): Promise<string> }
  const local = new LRUCache<string, string>({ max: LOCAL_ENTRIES, ttl: LOCAL_TTL_MS })
  const key = (agentId: string, id: string) => `${namespace}conv:${agentId}:${id}`
  return {
    async ownerOf(agentId, id) {
      const k = key(agentId, id)
      const cached = local.get(k)
      if (cached !== undefined) return cached
      try {
        const owner = await redis.get(k)
        if (owner !== null) local.set(k, owner)
        return owner ?? undefined
      } catch (error) {
        logger.warn({ err: error }, 'conversation owner lookup failed; checking with Agent Studio instead')
        return undefined
      }
    },
    async claim(agentId, id, userId) {
      const k = key(agentId, id)
      let owner = userId
      try {
        owner = await commands.claimConversation(k, userId, REDIS_TTL_SECONDS)
      } catch (error) {
        logger.warn({ err: error }, 'conversation owner not recorded in Redis; kept on this replica')
      }
      local.set(k, owner)
      return owner
    },
    async forget(agentId, id) {
      const k = key(agentId, id)
      local.delete(k)
      await redis.del(k).catch((error: unknown) => logger.warn({ err: error }, 'conversation owner not removed from Redis'))
    }
  }
}
