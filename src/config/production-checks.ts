import { isLoopbackAddress } from './addresses.js'
import { userShare } from './limits.js'
import type { LimitsConfig } from './limits.js'
import type { Settings } from './settings.js'

/**
 * Settings that are legal but dangerous in production (issue 19: each started in silence). One
 * table, so the README's table can be checked against it (test/config/production-checks.test.ts): under
 * NODE_ENV=production a `refuse` entry stops the start with its problem and a `warn` entry is
 * logged at start (and printed by `doctor`). Outside production they are a developer's choice.
 */
export interface ProductionCheck {
  /** What ops set: the variable or policy-file key, as the README names it. */
  readonly setting: string
  readonly verdict: 'refuse' | 'warn'
  /** Why it is dangerous, and what to do instead. */
  readonly why: string
  readonly applies: (settings: Settings, limits: LimitsConfig) => readonly string[] | boolean
}

export const PRODUCTION_CHECKS: readonly ProductionCheck[] = [
  {
    setting: 'ALLOW_CONFIGURATION=true',
    verdict: 'refuse',
    why: "a browser could replace the agent's prompt, model and tools with its own and run them on the application's bill",
    applies: (s) => s.policy.allowConfiguration
  },
  {
    setting: 'ALLOW_MCP_SERVERS=true',
    verdict: 'refuse',
    why: 'a browser could point the agent at MCP servers of its choosing, which then receive the conversation and feed it tool results',
    applies: (s) => s.policy.allowMcpServers
  },
  {
    setting: 'ALLOW_SYSTEM_MESSAGES=true',
    verdict: 'refuse',
    why: 'a browser could send "system" messages that override the agent\'s instructions',
    applies: (s) => s.policy.allowSystemMessages
  },
  {
    setting: 'ALLOW_SEARCH_PARAMETERS=true',
    verdict: 'warn',
    why: "a browser may override the agent's search parameters (filters included): never combine it with tenant isolation or filters that restrict what a user may see",
    applies: (s) => s.policy.allowSearchParameters
  },
  {
    setting: 'ALLOW_INDICES=true',
    verdict: 'warn',
    why: "a browser may choose which indices the agent's search tools read (among those the tools allow)",
    applies: (s) => s.policy.allowIndices
  },
  {
    setting: 'ALLOWED_AGENT_IDS containing test',
    verdict: 'refuse',
    why: 'Agent Studio\'s agent id "test" runs whatever configuration the request carries; it is never a real agent',
    applies: (s) => s.policy.allowedAgentIds.filter((id) => id.toLowerCase() === 'test')
  },
  {
    setting: 'ALLOWED_ORIGINS with an http:// origin',
    verdict: 'refuse',
    why: "a page served over plain http can be altered by anyone on its network, and would be trusted with the user's session; use https (http://localhost and loopback only warn)",
    applies: (s) => s.policy.allowedOrigins.filter((origin) => isPlainHttp(origin) && !isLoopbackOrigin(origin))
  },
  {
    setting: 'ALLOWED_ORIGINS with an http:// loopback origin',
    verdict: 'warn',
    why: 'a local development page is trusted with production sessions; remove it once you are done',
    applies: (s) => s.policy.allowedOrigins.filter((origin) => isPlainHttp(origin) && isLoopbackOrigin(origin))
  },
  {
    setting: 'limits.upstreamBudget.max: 0',
    verdict: 'warn',
    why: "no deployment-wide budget: a burst from one user can use up Agent Studio's ~100 requests/min per application for everyone; the default is max: 100, windowSeconds: 60",
    applies: (_s, limits) => limits.upstreamBudget.max === 0
  },
  {
    setting: 'limits.upstreamBudget.perUser at or above max',
    verdict: 'warn',
    why: 'one user alone may spend the whole budget, and every other user is refused until the window ends; keep perUser well under max (0: a tenth of it)',
    applies: (_s, limits) => limits.upstreamBudget.max > 0 && userShare(limits.upstreamBudget) >= limits.upstreamBudget.max
  },
  {
    setting: 'SKIP_KEY_AUDIT=true',
    verdict: 'warn',
    why: "the keys' ACLs are not checked at start: an Admin or over-privileged key would be used without complaint",
    applies: (s) => s.server.skipKeyAudit
  }
]

/** Under NODE_ENV=production, adds each dangerous setting in force to the problems (`refuse`) or the warnings. */
export function productionChecks(settings: Settings, limits: LimitsConfig, production: boolean, problems: string[], warnings: string[]): void {
  if (!production) return
  for (const check of PRODUCTION_CHECKS) {
    const found = check.applies(settings, limits)
    const values = Array.isArray(found) ? found : found === true ? [''] : []
    for (const value of values) {
      const what = value === '' ? check.setting : `${check.setting} (${value})`
      if (check.verdict === 'refuse') problems.push(`${what}: refused under NODE_ENV=production: ${check.why}`)
      else warnings.push(`${what}: DANGEROUS IN PRODUCTION: ${check.why}`)
    }
  }
}

function isPlainHttp(origin: string): boolean {
  return origin.startsWith('http://')
}

function isLoopbackOrigin(origin: string): boolean {
  const host = new URL(origin).hostname
  return host === 'localhost' || isLoopbackAddress(host.replace(/^\[(.*)\]$/, '$1'))
}
