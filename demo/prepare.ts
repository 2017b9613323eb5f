import type { FastifyPluginAsync } from 'fastify'
import { loadConfig } from '../src/config/load-config.js'
import type { LoadOptions } from '../src/config/load-config.js'
import type { GatewayConfig } from '../src/config/types.js'
import { createStandIn } from '../standin/src/standin.js'
import type { StandIn } from '../standin/src/standin.js'
import { DEMO_AGENT_ID, demoEnvironment, demoKeys, withDemoLimits } from './config.js'
import { demoRoutes } from './routes.js'

export interface PreparedDemo {
  /** The gateway's configuration, read from the environment the demo set, as any deployment's is. */
  readonly config: GatewayConfig
  readonly warnings: readonly string[]
  /** The Agent Studio stand-in the config points at; the caller closes it after the gateway. */
  readonly standIn: StandIn
  /** The demo's pages (sign-in, chat), served by the gateway beside its own routes. */
  readonly pages: FastifyPluginAsync
}

/**
 * DEMO ONLY: starts the Agent Studio stand-in (standin/) on a random loopback port with
 * generated keys, the way an Algolia application would know them, and configures the gateway
 * to use it. Used by demo/main.ts (`npm start`) and the demo's browser test alike.
 */
export async function prepareDemo(
  env: Readonly<Record<string, string | undefined>>,
  { paceMs = 40, load }: { paceMs?: number; load?: LoadOptions } = {}
): Promise<PreparedDemo> {
  const keys = demoKeys()
  const agents = (env.ALLOWED_AGENT_IDS ?? DEMO_AGENT_ID).split(',').map((id) => id.trim())
  const standIn = createStandIn({
    appId: keys.appId,
    apiKeys: new Map([
      [keys.apiKey, ['search', 'logs']],
      [keys.searchKey, ['search']]
    ]),
    // The search-only parent is set up the way the key audit recommends.
    keyDetails: new Map([[keys.searchKey, { maxQueriesPerIPPerHour: 1000, referers: ['http://127.0.0.1:*', 'http://localhost:*'] }]]),
    authenticationKeys: new Map([[keys.keyId, keys.secretKey]]),
    agents,
    paceMs
  })
  const url = await standIn.listen()
  try {
    const loaded = loadConfig(demoEnvironment(env, keys, url), load)
    const config = withDemoLimits(loaded.config)
    // Same-origin pages, by design: the one warning that does not apply to the demo.
    const warnings = loaded.warnings.filter((warning) => !warning.startsWith('ALLOWED_ORIGINS is empty'))
    return { config, warnings, standIn, pages: demoRoutes(config) }
  } catch (error) {
    await standIn.close()
    throw error
  }
}
