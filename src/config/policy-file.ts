import { existsSync, readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { nonEmpty } from './environment.js'
import type { Environment } from './environment.js'
import { ENVIRONMENT_ONLY_VARIABLES, SECRET_VARIABLES, SETTINGS } from './settings.js'

/**
 * The policy file (YAML): the tunable settings by section, and the `limits:` and `agents:`
 * sections that a reload re-reads. Secrets never live here.
 */

export const DEFAULT_CONFIG_FILE = 'config/gateway.yaml'

export type PolicyFileValues = Readonly<Record<string, unknown>>

/** GATEWAY_CONFIG_FILE, else the default file when it exists, else none. */
export function policyFilePath(env: Environment, defaultFile: string | undefined): string | undefined {
  return nonEmpty(env.GATEWAY_CONFIG_FILE) ?? (defaultFile !== undefined && existsSync(defaultFile) ? defaultFile : undefined)
}

/** The file's sections; every unreadable part or unknown key is a problem. */
export function readPolicyFile(path: string, problems: string[]): PolicyFileValues {
  let parsed: unknown
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'))
  } catch (error) {
    problems.push(`config file ${path}: ${firstLine(error)}`)
    return {}
  }
  if (parsed === null || parsed === undefined) return {}
  if (!isMapping(parsed)) {
    problems.push(`config file ${path}: must be a mapping of sections (server, policy, upstream, session, userToken, log)`)
    return {}
  }
  const known = new Set(SETTINGS.map((s) => s.path.join('.')))
  for (const [section, values] of Object.entries(parsed)) {
    // The limits, agents and audit sections have their own strict schemas (src/config/limits.ts, agents.ts, audit.ts).
    if (section === 'limits' || section === 'agents' || section === 'audit') continue
    if (!isMapping(values)) {
      problems.push(`config file ${path}: "${section}" must be a mapping`)
      continue
    }
    for (const key of Object.keys(values)) {
      if (!known.has(`${section}.${key}`)) problems.push(`config file ${path}: "${section}.${key}" is not a known setting`)
    }
  }
  const secretsInFile = [...SECRET_VARIABLES, ...ENVIRONMENT_ONLY_VARIABLES].filter((name) => name in parsed)
  for (const name of secretsInFile) problems.push(`config file ${path}: ${name} belongs in the environment, not the policy file`)
  return parsed
}

/** One section of the file, or nothing (a section that is not a mapping is already a problem). */
export function policyFileSection(values: PolicyFileValues, section: string): PolicyFileValues | undefined {
  const found = values[section]
  return isMapping(found) ? found : undefined
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
}
