import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AGENT_ID } from './fixtures.js'
import { tempDir } from './temp-dir.js'

/** A policy file with only an `agents:` section (JSON is YAML), for GATEWAY_CONFIG_FILE. */
export function agentsFile(agents: Record<string, Record<string, unknown>>): string {
  const file = join(tempDir(), 'gateway.yaml')
  writeFileSync(file, JSON.stringify({ agents }))
  return file
}

/** The environment for a gateway whose test agent is declared `cache: shared` (issue 23: only then is the cache used). */
export function sharedCacheEnv(): { GATEWAY_CONFIG_FILE: string } {
  return { GATEWAY_CONFIG_FILE: agentsFile({ [AGENT_ID]: { cache: 'shared' } }) }
}
