import { REQUIRED_ALGOLIA } from './algolia.js'
import { environmentReader, processEnvironment } from './environment.js'
import type { Environment } from './environment.js'
import { parseLimits } from './limits.js'
import type { LimitsConfig } from './limits.js'
import { readPolicyFile } from './policy-file.js'
import { parseAgents } from './agents.js'
import type { AgentsConfig, AgentsContext } from './agents.js'

/**
 * A live reload (SIGHUP) re-reads what ops may change without a restart: the limits, the
 * per-agent settings and the Algolia secrets. The caller keeps what is in force when a reload returns problems.
 */

/**
 * Re-reads the `limits:` and `agents:` sections together: both valid, or neither applies (every
 * problem of both is reported). `allowedAgentIds` (which a reload does not change) names the
 * agents an `agents:` entry may be for (`agentsContext`); undefined: not read (limits only).
 */
export function reloadPolicy(
  configFile: string | undefined,
  agentsContext: AgentsContext | undefined
): { limits: LimitsConfig; agents: AgentsConfig } | { problems: string[] } {
  if (configFile === undefined)
    return { problems: ['no policy file was loaded at start (set GATEWAY_CONFIG_FILE or ship config/gateway.yaml): nothing to reload'] }
  const problems: string[] = []
  const values = readPolicyFile(configFile, problems)
  if (problems.length > 0) return { problems }
  const source = `config file ${configFile}`
  const limits = parseLimits(values.limits, source)
  const agents = agentsContext === undefined ? { agents: {} } : parseAgents(values.agents, source, agentsContext)
  if ('problems' in limits || 'problems' in agents)
    return { problems: [...('problems' in limits ? limits.problems : []), ...('problems' in agents ? agents.problems : [])] }
  return { limits: limits.limits, agents: agents.agents }
}

export interface ReloadedSecrets {
  readonly apiKey: string
  readonly searchKey: string | undefined
  readonly signingKey: { readonly keyId: string; readonly secret: string }
}

/**
 * Re-reads the Algolia secrets: from the files named by `*_FILE` when they are used (the
 * Docker/Kubernetes secrets convention: a mounted file changes, the process does not).
 */
export function reloadSecretsFromProcess(options: { requireSearchKey: boolean }): { secrets: ReloadedSecrets } | { problems: string[] } {
  return reloadSecrets(processEnvironment(), options)
}

/** `requireSearchKey`: POST /search-key is served, so its parent cannot go away (it never falls back to the API key). */
export function reloadSecrets(
  env: Environment,
  options: { requireSearchKey: boolean } = { requireSearchKey: false }
): { secrets: ReloadedSecrets } | { problems: string[] } {
  const problems: string[] = []
  const read = environmentReader(env, problems)
  const required = options.requireSearchKey ? [...REQUIRED_ALGOLIA, 'ALGOLIA_SEARCH_KEY'] : REQUIRED_ALGOLIA
  const missing = required.filter((name) => name !== 'ALGOLIA_APP_ID' && read(name) === undefined)
  for (const name of missing) problems.push(`${name}: required`)
  const apiKey = read('ALGOLIA_API_KEY')
  const keyId = read('ALGOLIA_KEY_ID')
  const secret = read('ALGOLIA_SECRET_KEY')
  if (problems.length > 0 || apiKey === undefined || keyId === undefined || secret === undefined) return { problems }
  return { secrets: { apiKey, searchKey: read('ALGOLIA_SEARCH_KEY'), signingKey: { keyId, secret } } }
}
