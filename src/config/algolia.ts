import type { ReadVariable } from './environment.js'
import type { Settings } from './settings.js'
import type { AlgoliaConfig } from './types.js'
import { parseHttpUrl, withoutTrailingSlash } from './urls.js'

/** The Algolia credentials and endpoints: environment only, secrets also as NAME_FILE. */

export const REQUIRED_ALGOLIA = ['ALGOLIA_APP_ID', 'ALGOLIA_API_KEY', 'ALGOLIA_KEY_ID', 'ALGOLIA_SECRET_KEY'] as const

export function resolveAlgolia(read: ReadVariable, problems: string[], production: boolean): AlgoliaConfig | undefined {
  const missing = REQUIRED_ALGOLIA.filter((name) => read(name) === undefined)
  for (const name of missing) problems.push(`${name}: required${production ? ' (NODE_ENV=production)' : ''}`)
  const appId = read('ALGOLIA_APP_ID')
  if (appId !== undefined && !/^[A-Za-z0-9]{1,32}$/.test(appId)) problems.push('ALGOLIA_APP_ID: letters and digits only, as shown in the Algolia dashboard')
  const explicitUrl = read('AGENT_STUDIO_URL')
  let agentStudioUrl: URL | undefined
  if (explicitUrl !== undefined) {
    agentStudioUrl = parseHttpUrl(explicitUrl, 'AGENT_STUDIO_URL', problems, production)
  } else if (appId !== undefined) {
    agentStudioUrl = new URL(`https://${appId.toLowerCase()}.algolia.net/agent-studio`)
  }
  // Values such as the compose demo's must never run a production gateway by accident.
  if (production) {
    for (const name of [...REQUIRED_ALGOLIA, 'ALGOLIA_SEARCH_KEY']) {
      if (/(^|[-_])demo[-_]/i.test(read(name) ?? '')) problems.push(`${name}: looks like a demo value; not allowed under NODE_ENV=production`)
    }
  }
  // The key audit asks the Search API. Agent Studio's own host (https://APPID.algolia.net) is
  // also a Search API host, so by default the audit asks wherever Agent Studio is.
  const explicitSearchApiUrl = read('ALGOLIA_SEARCH_API_URL')
  const searchApiUrl = explicitSearchApiUrl === undefined
    ? agentStudioUrl
    : parseHttpUrl(explicitSearchApiUrl, 'ALGOLIA_SEARCH_API_URL', problems, production)
  const apiKey = read('ALGOLIA_API_KEY')
  const keyId = read('ALGOLIA_KEY_ID')
  const secretKey = read('ALGOLIA_SECRET_KEY')
  if (appId === undefined || apiKey === undefined || keyId === undefined || secretKey === undefined || agentStudioUrl === undefined || searchApiUrl === undefined) return undefined
  return {
    appId,
    apiKey,
    searchKey: read('ALGOLIA_SEARCH_KEY'),
    searchApiUrl: new URL(searchApiUrl.origin),
    keyId,
    secretKey,
    agentStudioUrl: withoutTrailingSlash(agentStudioUrl)
  }
}

/**
 * Issue 11: the parent of browser keys never defaults to ALGOLIA_API_KEY, which carries `logs`
 * when conversations are on (a Secured API Key derived from it read every user's conversations).
 * Returns whether POST /search-key is served.
 */
export function searchKeyServed(algolia: AlgoliaConfig | undefined, settings: Settings, problems: string[], warnings: string[], production: boolean): boolean {
  if (algolia === undefined || algolia.searchKey !== undefined || !settings.searchKey.enabled) return settings.searchKey.enabled
  const message = 'ALGOLIA_SEARCH_KEY: not set, so POST /search-key is off (browser keys are never derived from ALGOLIA_API_KEY); set a search-only key, or ENABLE_SEARCH_KEY=false'
  if (production) problems.push(message)
  else warnings.push(message)
  return false
}
