import type { Dispatcher } from 'undici'
import { enabledRoutes } from '../config/enabled-routes.js'
import type { GatewayConfig } from '../config/types.js'
import { readBoundedText } from '../http/read-bounded.js'

export interface KeyAuditResult {
  /** Reasons not to start: each names the key, the ACL at fault and what to create instead. */
  readonly problems: string[]
  /** The audit could not tell (endpoint unreachable, key unknown to it): fatal in production only. */
  readonly unverifiable: string[]
  readonly warnings: string[]
}

interface KeyToAudit {
  readonly name: string
  readonly value: string
  readonly allowed: readonly string[]
  /** Handed to browsers (derived into Secured API Keys): referers and per-IP limits matter. */
  readonly browserFacing: boolean
}

export interface AclNeed {
  readonly acl: string
  /** The enabled route groups that need it. */
  readonly routes: readonly string[]
}

/**
 * Which ACL each enabled route group needs on ALGOLIA_API_KEY, read from the route table (the
 * spec's `x-acl` of each upstream path, src/config/route-table.ts). Chat with a conversation id
 * needs no `logs`: the gateway never reads a conversation to check who owns it (ids are
 * namespaced per user).
 */
export function upstreamAclNeeds(config: GatewayConfig): AclNeed[] {
  const needs = new Map<string, Set<string>>()
  for (const route of enabledRoutes(config)) {
    if (route.acl === null || route.group === null) continue
    const label = route.enabledBy === 'always' ? route.group : `${route.group} (${route.enabledBy})`
    needs.set(route.acl, (needs.get(route.acl) ?? new Set()).add(label))
  }
  return [...needs].map(([acl, routes]) => ({ acl, routes: [...routes] }))
}

export function describeAclNeeds(needs: readonly AclNeed[]): string {
  return needs.map((need) => `${need.acl} for ${need.routes.join(', ')}`).join('; ')
}

/** What each key needs, from the routes that are switched on. */
function keysToAudit(config: GatewayConfig): KeyToAudit[] {
  const upstreamAcl = upstreamAclNeeds(config).map((need) => need.acl)
  const keys: KeyToAudit[] = [{ name: 'ALGOLIA_API_KEY', value: config.algolia.apiKey, allowed: upstreamAcl, browserFacing: false }]
  // The parent of browser keys serves only /search-key, which needs nothing but search, even
  // when it is the same key as ALGOLIA_API_KEY (then that key must be search-only too).
  if (config.searchKey.enabled && config.algolia.searchKey !== undefined) {
    keys.push({ name: 'ALGOLIA_SEARCH_KEY', value: config.algolia.searchKey, allowed: ['search'], browserFacing: true })
  }
  return keys
}

/**
 * Before listening, ask Algolia what each key the gateway holds may do (`GET /1/keys/{key}` on
 * the Search API, which any key may call about itself) and refuse an over-privileged setup:
 * an Admin API key, or ACLs beyond what the enabled routes need. When the audit cannot tell
 * (endpoint unreachable, key unknown), production refuses too (fail closed: the keys cannot be
 * shown to be safe), while development only warns, so a laptop without network still starts.
 */
export async function auditKeys(config: GatewayConfig, dispatcher: Dispatcher): Promise<KeyAuditResult> {
  const problems: string[] = []
  const unverifiable: string[] = []
  const warnings: string[] = []
  const origin = config.algolia.searchApiUrl.origin
  const headers = (key: string) => ({ 'x-algolia-application-id': config.algolia.appId, 'x-algolia-api-key': key, accept: 'application/json' })

  async function get(path: string, key: string) {
    const response = await dispatcher.request({ origin, path, method: 'GET', headers: headers(key), signal: AbortSignal.timeout(5000) })
    const text = await readBoundedText(response.body)
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
    return { statusCode: response.statusCode, body }
  }

  for (const key of keysToAudit(config)) {
    const fix = `create a key with exactly [${key.allowed.join(', ')}] in the Algolia dashboard (Settings > API Keys) and use it instead`
    let answer: { statusCode: number; body: unknown }
    try {
      answer = await get(`/1/keys/${encodeURIComponent(key.value)}`, key.value)
    } catch (error) {
      unverifiable.push(
        `key audit: ${origin} could not be reached (${(error as Error).message}); the keys cannot be checked. Fix the network or ALGOLIA_SEARCH_API_URL, or set SKIP_KEY_AUDIT=true for an air-gapped start`
      )
      return { problems, unverifiable, warnings }
    }
    if (answer.statusCode === 404) {
      const list = await get('/1/keys', key.value).catch(() => ({ statusCode: 0, body: undefined }))
      if (list.statusCode === 200)
        problems.push(`${key.name} is the Admin API key: it can do anything, including deleting indices and keys. Never deploy it; ${fix}`)
      else
        unverifiable.push(
          `${key.name}: ${origin} does not know this key for application ${config.algolia.appId} (GET /1/keys/{key} answered 404); check the key and ALGOLIA_SEARCH_API_URL, or ${fix}`
        )
      continue
    }
    if (answer.statusCode !== 200) {
      // Algolia's own words say which: an unknown application, an invalid key, a blocked IP.
      const said =
        typeof (answer.body as { message?: unknown } | undefined)?.message === 'string'
          ? `: "${String((answer.body as { message: string }).message).slice(0, 200)}"`
          : ''
      const hint =
        answer.statusCode === 401 || answer.statusCode === 403
          ? `Algolia does not accept this key for application ${config.algolia.appId}: check ALGOLIA_APP_ID, and that ${key.name} is the key itself (from Settings > API Keys, without quotes or spaces; not the sk-alg- secret, which is ALGOLIA_SECRET_KEY)`
          : 'check ALGOLIA_APP_ID and the key'
      problems.push(`${key.name}: Algolia refused to describe it (HTTP ${answer.statusCode}${said}); ${hint}`)
      continue
    }
    const details = answer.body as { acl?: unknown; maxQueriesPerIPPerHour?: unknown; referers?: unknown }
    const acl = Array.isArray(details.acl) ? details.acl.map(String) : []
    const beyond = acl.filter((entry) => !key.allowed.includes(entry))
    const needs = key.name === 'ALGOLIA_API_KEY' ? describeAclNeeds(upstreamAclNeeds(config)) : 'search for /search-key'
    if (beyond.length > 0) problems.push(`${key.name} has ACL ${beyond.join(', ')} beyond what the enabled routes need (${needs}); ${fix}`)
    if (!acl.includes('search')) problems.push(`${key.name} lacks the search ACL that completions need; ${fix}`)
    if (key.allowed.includes('logs') && !acl.includes('logs')) {
      warnings.push(
        `${key.name} lacks the logs ACL: conversation and user-data routes will fail; grant logs or set ENABLE_CONVERSATIONS=false and ENABLE_USER_DATA=false`
      )
    }
    if (key.browserFacing) {
      if (typeof details.maxQueriesPerIPPerHour !== 'number' || details.maxQueriesPerIPPerHour <= 0) {
        warnings.push(
          `${key.name} has no maxQueriesPerIPPerHour: set one on the key in the Algolia dashboard so a leaked secured key cannot be used without limit`
        )
      }
      if (!Array.isArray(details.referers) || details.referers.length === 0) {
        warnings.push(`${key.name} has no referer restriction: add your site's referers (https://app.example.com/*) on the key in the Algolia dashboard`)
      }
    }
  }
  return { problems, unverifiable, warnings }
}
