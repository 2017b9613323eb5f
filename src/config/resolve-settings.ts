import { nonEmpty } from './environment.js'
import type { Environment } from './environment.js'
import { policyFileSection } from './policy-file.js'
import type { PolicyFileValues } from './policy-file.js'
import { SETTINGS, settingsSchema } from './settings.js'
import type { Setting, Settings } from './settings.js'

/**
 * Each setting's value comes from its environment variable, else the policy file, else its
 * default. A value that fails validation is one problem, named by where it came from; the
 * setting then falls back to its default, so later checks still run and every problem is
 * reported at once.
 */
export function resolveSettings(env: Environment, file: PolicyFileValues, configFile: string | undefined, problems: string[]): Settings {
  const result = settingsSchema.safeParse(rawSettings(env, file, new Set()))
  if (result.success) return result.data
  const messages = new Map<string, string[]>()
  for (const issue of result.error.issues) {
    const name = issue.path.slice(0, 2).map(String).join('.')
    messages.set(name, [...(messages.get(name) ?? []), issue.message])
  }
  const invalid = new Set<Setting>()
  for (const setting of SETTINGS) {
    const [section, key] = setting.path
    const found = messages.get(`${section}.${key}`)
    if (found === undefined) continue
    invalid.add(setting)
    const source = nonEmpty(env[setting.env]) !== undefined ? setting.env : `config file ${configFile} ${section}.${key} (or ${setting.env})`
    problems.push(`${source}: ${found.join('; ')}`)
  }
  // Every default is valid: this throws only on a mistake in the settings table.
  return settingsSchema.parse(rawSettings(env, file, invalid))
}

/** The unvalidated values by section; `useDefault` settings are left unset. */
function rawSettings(env: Environment, file: PolicyFileValues, useDefault: ReadonlySet<Setting>): Record<string, Record<string, unknown>> {
  const sections: Record<string, Record<string, unknown>> = {}
  for (const setting of SETTINGS) {
    const [section, key] = setting.path
    const values = (sections[section] ??= {})
    values[key] = useDefault.has(setting) ? undefined : (nonEmpty(env[setting.env]) ?? policyFileSection(file, section)?.[key])
  }
  return sections
}
