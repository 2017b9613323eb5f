import { createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'

/**
 * The Search API's key endpoints, as the key audit uses them: `GET /1/keys/{key}` tells a key
 * its own ACL and limits (the Admin API key is not a key object there: 404), and only the Admin
 * API key may list every key (`GET /1/keys`).
 */
/** What the key endpoints know of the application's keys (a part of the stand-in's options). */
export interface KeyOptions {
  readonly appId: string
  /** API keys accepted, with their ACLs. */
  readonly apiKeys: ReadonlyMap<string, readonly string[]>
  /** What `GET /1/keys/{key}` tells about a key beyond its ACL (the key audit reads it). */
  readonly keyDetails?: ReadonlyMap<string, { readonly maxQueriesPerIPPerHour?: number; readonly referers?: readonly string[] }>
  /** The app's Admin API key: unknown to `GET /1/keys/{key}`, but allowed to list every key. */
  readonly adminKey?: string
}

export function keyRoutes(app: FastifyInstance, options: KeyOptions): void {
  // Without an Admin API key configured, nobody is the admin (not even a request with no key at all).
  const isAdmin = (presented: unknown) => options.adminKey !== undefined && presented === options.adminKey
  // specs/search/paths/keys/key.yml (getApiKey): a key other than the Admin API key may read only
  // itself, "with the description replaced by `<redacted>`".
  const describe = (key: string, caller: string) => ({
    value: key,
    acl: options.apiKeys.get(key),
    description: isAdmin(caller) ? 'stand-in key' : '<redacted>',
    indexes: [],
    referers: options.keyDetails?.get(key)?.referers ?? [],
    maxQueriesPerIPPerHour: options.keyDetails?.get(key)?.maxQueriesPerIPPerHour ?? 0,
    maxHitsPerQuery: 0,
    validity: 0,
    createdAt: 1767225600
  })
  const appOk = (appId: unknown) => appId === options.appId

  app.get<{ Params: { key: string } }>('/1/keys/:key', async (request, reply) => {
    const caller = String(request.headers['x-algolia-api-key'])
    const known = options.apiKeys.has(caller) || isAdmin(caller)
    if (!appOk(request.headers['x-algolia-application-id']) || !known)
      return reply.code(403).send({ message: 'Invalid Application-ID or API key', status: 403 })
    const { key } = request.params
    if (!options.apiKeys.has(key)) return reply.code(404).send({ message: 'Key does not exist', status: 404 })
    if (caller !== key && !isAdmin(caller)) return reply.code(403).send({ message: 'Method not allowed with this API key', status: 403 })
    return describe(key, caller)
  })

  app.get('/1/keys', async (request, reply) => {
    if (!appOk(request.headers['x-algolia-application-id']) || !isAdmin(request.headers['x-algolia-api-key'])) {
      return reply.code(403).send({ message: 'Method not allowed with this API key', status: 403 })
    }
    return { keys: [...options.apiKeys.keys()].map((key) => describe(key, options.adminKey as string)) }
  })
}

/**
 * A Secured API Key is base64(hex(HMAC-SHA256(parent, query)) + query). Returns its parent and
 * restrictions when it verifies against one of the parents and has not expired.
 */
export function verifySecuredApiKey(key: string, parents: readonly string[]): { parentKey: string; restrictions: Record<string, string> } | undefined {
  if (parents.length === 0) return undefined
  let decoded: string
  try {
    decoded = Buffer.from(key, 'base64').toString('utf8')
  } catch {
    return undefined
  }
  if (decoded.length <= 64 || !/^[0-9a-f]{64}/.test(decoded)) return undefined
  const mac = Buffer.from(decoded.slice(0, 64), 'hex')
  const query = decoded.slice(64)
  for (const parentKey of parents) {
    const expected = createHmac('sha256', parentKey).update(query).digest()
    if (expected.length === mac.length && timingSafeEqual(expected, mac)) {
      const restrictions = Object.fromEntries(new URLSearchParams(query))
      const validUntil = Number(restrictions.validUntil)
      if (Number.isFinite(validUntil) && validUntil * 1000 < Date.now()) return undefined
      return { parentKey, restrictions }
    }
  }
  return undefined
}
