import { filterTemplateProblem } from './filter-template.js'
import { resolveAlgolia, searchKeyServed } from './algolia.js'
import { addressProblems, longChatProblems, noAgentProblem, noOriginWarning, timeoutProblems } from './cross-checks.js'
import { environmentReader, processEnvironment } from './environment.js'
import type { Environment } from './environment.js'
import { parseLimits } from './limits.js'
import { parseAgents } from './agents.js'
import { parseAudit } from './audit.js'
import { productionChecks } from './production-checks.js'
import { DEFAULT_CONFIG_FILE, policyFilePath, readPolicyFile } from './policy-file.js'
import { resolveRedis } from './redis.js'
import { resolveSettings } from './resolve-settings.js'
import { resolveSession } from './session.js'
import { resolveTracing } from './tracing.js'
import type { GatewayConfig } from './types.js'

/**
 * The configuration's one entry point: read the environment and the policy file, validate
 * everything, report every problem at once, and hand back a frozen config (oauth2-proxy's
 * load → validate → build order). Each concern lives in its own file beside this one.
 */

export { DEFAULT_CONFIG_FILE } from './policy-file.js'
export { reloadPolicy, reloadSecrets, reloadSecretsFromProcess } from './reload.js'
export type { ReloadedSecrets } from './reload.js'
export type { Environment } from './environment.js'

/** Raised once with every problem found, so an operator fixes them all in one go. */
export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

export interface LoadedConfig {
  readonly config: GatewayConfig
  /** Non-fatal findings, logged at start-up. */
  readonly warnings: readonly string[]
}

export interface LoadOptions {
  /** The policy file read when GATEWAY_CONFIG_FILE is unset (if it exists); undefined: none. */
  readonly defaultConfigFile?: string | undefined
}

export function loadConfigFromProcess(): LoadedConfig {
  return loadConfig(processEnvironment())
}

export function loadConfig(env: Environment, options: LoadOptions = { defaultConfigFile: DEFAULT_CONFIG_FILE }): LoadedConfig {
  const problems: string[] = []
  const warnings: string[] = []
  const read = environmentReader(env, problems)
  const production = env.NODE_ENV === 'production'

  const configFile = policyFilePath(env, options.defaultConfigFile)
  const fileValues = configFile === undefined ? {} : readPolicyFile(configFile, problems)
  const settings = resolveSettings(env, fileValues, configFile, problems)

  const algolia = resolveAlgolia(read, problems, warnings, production)
  const session = resolveSession(read, settings, problems, warnings, production)
  const searchKeyEnabled = searchKeyServed(read, settings, problems, warnings, production)

  timeoutProblems(settings, problems)
  longChatProblems(settings, problems)
  const allowedAgentIds = settings.policy.allowedAgentIds
  noAgentProblem(allowedAgentIds, problems, warnings, production)
  noOriginWarning(settings.policy.allowedOrigins, warnings)
  const limits = parseLimits(fileValues.limits, `config file ${configFile}`)
  if ('problems' in limits) problems.push(...limits.problems)
  else productionChecks(settings, limits.limits, production, problems, warnings)
  const agents = parseAgents(fileValues.agents, `config file ${configFile}`, { allowedAgentIds, agentTenantIsolation: settings.searchKey.agentTenantIsolation })
  if ('problems' in agents) problems.push(...agents.problems)
  const audit = parseAudit(fileValues.audit, `config file ${configFile}`)
  if ('problems' in audit) problems.push(...audit.problems)
  const templateProblem = filterTemplateProblem(settings.searchKey.filters)
  if (templateProblem !== undefined) problems.push(`SEARCH_KEY_FILTERS: ${templateProblem}`)
  addressProblems(settings, problems)
  const tracing = resolveTracing(read, settings, problems)
  // Read before the check, so a REDIS_URL_FILE (or any REDIS_*) problem stops the start like any other.
  const { shutdownGraceSeconds, redisNamespace, ...server } = settings.server
  const redis = resolveRedis(read, redisNamespace ?? `asg:${algolia?.appId ?? ''}:`, problems)

  // Each undefined part has its problem already; testing them too lets the types know.
  if (problems.length > 0 || algolia === undefined || session === undefined || 'problems' in limits || 'problems' in agents || 'problems' in audit)
    throw new ConfigError(problems)

  const config: GatewayConfig = {
    production,
    configFile,
    server: { ...server, shutdownGraceMs: shutdownGraceSeconds * 1000 },
    algolia,
    userToken: settings.userToken,
    searchKey: { ...settings.searchKey, enabled: searchKeyEnabled },
    session,
    policy: { ...settings.policy, allowedAgentIds },
    upstream: settings.upstream,
    log: settings.log,
    tracing,
    limits: limits.limits,
    agents: agents.agents,
    audit: audit.audit,
    redis
  }
  return { config: deepFreeze(config), warnings }
}

/** Frozen all the way down, so no module can change what another one relies on. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !(value instanceof URL) && !ArrayBuffer.isView(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
