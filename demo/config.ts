import { randomBytes } from 'node:crypto'
import type { GatewayConfig } from '../src/config/types.js'

/**
 * The embedded demo's configuration: generated keys and a session secret, handed to the
 * gateway as the environment a real deployment would set, so the gateway itself has no demo
 * mode. Everything is generated per start, so nothing about it can leak or be reused.
 */

export const DEMO_AGENT_ID = 'demo-agent'

/**
 * Setting any of these means "I am configuring a real deployment" (the variables the gateway
 * requires, or its upstream): `npm start` then serves that gateway and no demo.
 */
export const DEPLOYMENT_VARIABLES = [
  'ALGOLIA_APP_ID',
  'ALGOLIA_API_KEY',
  'ALGOLIA_KEY_ID',
  'ALGOLIA_SECRET_KEY',
  'AGENT_STUDIO_URL',
  'SESSION_JWT_SECRET',
  'SESSION_JWT_PUBLIC_KEY',
  'SESSION_JWKS_URL',
  'SESSION_INTROSPECT_URL'
] as const

/** The demo runs only with nothing of a deployment configured, and never under NODE_ENV=production. */
export function runsDemo(env: Readonly<Record<string, string | undefined>>): boolean {
  return env.NODE_ENV !== 'production' && DEPLOYMENT_VARIABLES.every((name) => env[name] === undefined && env[`${name}_FILE`] === undefined)
}

export interface DemoKeys {
  readonly appId: string
  readonly apiKey: string
  /** A search-only parent for the browser's secured keys, as the key audit wants. */
  readonly searchKey: string
  readonly keyId: string
  readonly secretKey: string
  readonly sessionSecret: string
}

export function demoKeys(): DemoKeys {
  return {
    appId: 'DEMOAPP',
    apiKey: `demo-agent-key-${randomBytes(12).toString('hex')}`,
    searchKey: `demo-search-only-key-${randomBytes(12).toString('hex')}`,
    keyId: 'demo-key-1',
    secretKey: `sk-alg-demo-${randomBytes(24).toString('hex')}`,
    sessionSecret: randomBytes(32).toString('base64url')
  }
}

/** What the demo sets for the gateway: the stand-in as Agent Studio and the search API, its keys, a session secret. */
export function demoEnvironment(env: Readonly<Record<string, string | undefined>>, keys: DemoKeys, standInUrl: URL): Record<string, string | undefined> {
  return {
    ...env,
    ALGOLIA_APP_ID: keys.appId,
    ALGOLIA_API_KEY: keys.apiKey,
    ALGOLIA_SEARCH_KEY: keys.searchKey,
    ALGOLIA_KEY_ID: keys.keyId,
    ALGOLIA_SECRET_KEY: keys.secretKey,
    AGENT_STUDIO_URL: standInUrl.href,
    ALGOLIA_SEARCH_API_URL: standInUrl.origin,
    SESSION_JWT_SECRET: keys.sessionSecret,
    SESSION_JWT_ISSUER: 'agent-studio-gateway-demo',
    SESSION_JWT_AUDIENCE: 'agent-studio-gateway-demo',
    ALLOWED_AGENT_IDS: env.ALLOWED_AGENT_IDS ?? DEMO_AGENT_ID,
    // The demo's pages are served by the gateway itself: same origin, no CORS needed.
    ALLOWED_ORIGINS: env.ALLOWED_ORIGINS ?? ''
  }
}

/**
 * The demo's limits: the policy file's, but with no per-user share of the upstream budget. The
 * embedded stand-in has no quota to protect, and one person trying every page of the demo
 * (chat, history, votes, suggestions) would meet a production share of 10 calls a minute.
 */
export function withDemoLimits(config: GatewayConfig): GatewayConfig {
  const budget = config.limits.upstreamBudget
  return Object.freeze({
    ...config,
    limits: Object.freeze({ ...config.limits, upstreamBudget: Object.freeze({ ...budget, perUser: Math.max(1, budget.max) }) })
  })
}
