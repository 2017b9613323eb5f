import { randomBytes } from 'node:crypto'
import { REQUIRED_ALGOLIA } from './algolia.js'
import type { ReadVariable } from './environment.js'
import { SESSION_METHODS } from './session.js'
import type { LimitsConfig } from './limits.js'
import type { Settings } from './settings.js'
import type { AlgoliaConfig, SessionConfig } from './types.js'

/**
 * The embedded demo: with nothing configured (and not under NODE_ENV=production) the gateway
 * runs against a stand-in with generated keys and its own sign-in.
 */

export const DEMO_AGENT_ID = 'demo-agent'

/** Setting any of these means "I am configuring a real deployment": the demo is then off. */
const DEPLOYMENT_VARIABLES = [...REQUIRED_ALGOLIA, ...SESSION_METHODS, 'AGENT_STUDIO_URL'] as const

export function runsDemo(read: ReadVariable, problems: string[], production: boolean): boolean {
  const configured = DEPLOYMENT_VARIABLES.filter((name) => read(name) !== undefined)
  if (production && configured.length === 0) {
    problems.push(`NODE_ENV=production: the embedded demo is disabled; set ${[...REQUIRED_ALGOLIA, 'one of ' + SESSION_METHODS.join(' / ')].join(', ')}`)
  }
  return configured.length === 0 && !production
}

/** Demo credentials are generated per start, so nothing about them can leak or be reused. */
export function demoAlgolia(): AlgoliaConfig {
  return {
    appId: 'DEMOAPP',
    apiKey: `demo-agent-key-${randomBytes(12).toString('hex')}`,
    // A search-only parent for the browser's secured keys, as the key audit wants.
    searchKey: `demo-search-only-key-${randomBytes(12).toString('hex')}`,
    searchApiUrl: new URL('http://127.0.0.1:9'),
    keyId: 'demo-key-1',
    secretKey: `sk-alg-demo-${randomBytes(24).toString('hex')}`,
    // Replaced by the address of the embedded stand-in once it listens.
    agentStudioUrl: new URL('http://127.0.0.1:9/agent-studio')
  }
}

export function demoSession(settings: Settings): SessionConfig {
  const s = settings.session
  return {
    kind: 'jwt',
    key: { type: 'secret', secret: randomBytes(32) },
    issuer: 'agent-studio-gateway-demo',
    audience: undefined,
    userIdClaim: 'sub',
    maxAgeSeconds: s.maxAgeSeconds,
    clockToleranceSeconds: s.clockToleranceSeconds,
    cookieName: s.cookieName,
    tenantClaim: s.tenantClaim
  }
}

/** The demo's one agent, when ALLOWED_AGENT_IDS names none. */
export function demoAgentIds(allowedAgentIds: readonly string[]): readonly string[] {
  return allowedAgentIds.length === 0 ? [DEMO_AGENT_ID] : allowedAgentIds
}

/**
 * The demo's limits: the policy file's, but with no per-user share of the upstream budget. The
 * embedded stand-in has no quota to protect, and one person trying every page of the demo
 * (chat, history, votes, suggestions) would meet a production share of 10 calls a minute.
 */
export function demoLimits(limits: LimitsConfig): LimitsConfig {
  return { ...limits, upstreamBudget: { ...limits.upstreamBudget, perUser: Math.max(1, limits.upstreamBudget.max) } }
}
