import type { ReadVariable } from './environment.js'
import type { Settings } from './settings.js'
import type { AlgoliaConfig } from './types.js'
import { parseHttpUrl, withoutTrailingSlash } from './urls.js'

/** The Algolia credentials and endpoints: environment only, secrets also as NAME_FILE. */

export const REQUIRED_ALGOLIA = ['ALGOLIA_APP_ID', 'ALGOLIA_API_KEY', 'ALGOLIA_KEY_ID', 'ALGOLIA_SECRET_KEY'] as const

export function resolveAlgolia(read: ReadVariable, problems: string[], warnings: string[], production: boolean): AlgoliaConfig | undefined {
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
  for (const name of [...REQUIRED_ALGOLIA, 'ALGOLIA_SEARCH_KEY'] as const) pastingProblems(name, read(name), problems, warnings)
  // Values such as the compose demo's must never run a production gateway by accident.
  if (production) {
    for (const name of [...REQUIRED_ALGOLIA, 'ALGOLIA_SEARCH_KEY']) {
      if (/(^|[-_])demo[-_]/i.test(read(name) ?? '')) problems.push(`${name}: looks like a demo value; not allowed under NODE_ENV=production`)
    }
  }
  // The key audit asks the Search API. Agent Studio's own host (https://APPID.algolia.net) is
  // also a Search API host, so by default the audit asks wherever Agent Studio is.
  const explicitSearchApiUrl = read('ALGOLIA_SEARCH_API_URL')
  const searchApiUrl = explicitSearchApiUrl === undefined ? agentStudioUrl : parseHttpUrl(explicitSearchApiUrl, 'ALGOLIA_SEARCH_API_URL', problems, production)
  const apiKey = read('ALGOLIA_API_KEY')
  const keyId = read('ALGOLIA_KEY_ID')
  const secretKey = read('ALGOLIA_SECRET_KEY')
  if (
    appId === undefined ||
    apiKey === undefined ||
    keyId === undefined ||
    secretKey === undefined ||
    agentStudioUrl === undefined ||
    searchApiUrl === undefined
  )
    return undefined
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

/** Agent Studio's authentication keys (the user-token secret) begin so; API keys never do. */
const AUTHENTICATION_KEY_PREFIX = 'sk-alg-'

/**
 * The mistakes of copying a key that Algolia would only answer with a bare 401 or 403 later
 * (issue 19): quotes or spaces pasted with it, or the `sk-alg-` secret in an API key's place.
 */
function pastingProblems(name: string, value: string | undefined, problems: string[], warnings: string[]): void {
  if (value === undefined) return
  if (/^["'`]|["'`]$/.test(value))
    problems.push(`${name}: starts or ends with a quote; set the value without quotes (an env file or Secret keeps them as part of the value)`)
  else if (/\s/.test(value))
    problems.push(
      `${name}: contains white space or a line break; paste the value alone (a file read through ${name}_FILE may end with one newline, nothing else)`
    )
  const secretLike = value.replace(/^["'`]/, '').startsWith(AUTHENTICATION_KEY_PREFIX)
  if (secretLike && name !== 'ALGOLIA_SECRET_KEY') {
    problems.push(
      `${name}: this is an Agent Studio authentication key (${AUTHENTICATION_KEY_PREFIX}…), which belongs in ALGOLIA_SECRET_KEY; ${name} takes an API key from Settings > API Keys`
    )
  }
  if (name === 'ALGOLIA_SECRET_KEY' && !secretLike) {
    warnings.push(
      `ALGOLIA_SECRET_KEY: does not begin with ${AUTHENTICATION_KEY_PREFIX}, as Agent Studio's authentication keys do; check it is the secret whose ID is ALGOLIA_KEY_ID (\`npm run doctor\` proves it)`
    )
  }
}

/**
 * Issue 11: the parent of browser keys never defaults to ALGOLIA_API_KEY, which carries `logs`
 * when conversations are on (a Secured API Key derived from it read every user's conversations).
 * Returns whether POST /search-key is served.
 */
export function searchKeyServed(read: ReadVariable, settings: Settings, problems: string[], warnings: string[], production: boolean): boolean {
  // Judged on the variable itself, not on a resolved Algolia config: with other variables
  // missing, this problem used to appear only once they were all fixed (issue 19).
  if (read('ALGOLIA_SEARCH_KEY') !== undefined || !settings.searchKey.enabled) return settings.searchKey.enabled
  if (production)
    problems.push(
      'ALGOLIA_SEARCH_KEY: required (NODE_ENV=production) while POST /search-key is on (ENABLE_SEARCH_KEY, default true): set a search-only key (never derived from ALGOLIA_API_KEY), or ENABLE_SEARCH_KEY=false'
    )
  else
    warnings.push(
      'ALGOLIA_SEARCH_KEY: not set, so POST /search-key is off (browser keys are never derived from ALGOLIA_API_KEY); set a search-only key, or ENABLE_SEARCH_KEY=false'
    )
  return false
}
