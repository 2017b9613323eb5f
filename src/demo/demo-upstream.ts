import type { GatewayConfig } from '../config/types.js'
import { createStandIn } from '../standin/standin.js'
import type { StandIn } from '../standin/standin.js'
import type { StartDemoUpstream } from './load-demo-upstream.js'

/**
 * DEMO ONLY: starts the Agent Studio stand-in on a random loopback port with the demo's
 * generated keys, and returns the config pointed at it. Built with the stand-in (dist-standin/),
 * never with the gateway: server.ts loads it through load-demo-upstream.ts.
 */
export const startDemoUpstream = async function startDemoUpstream(config: GatewayConfig, { paceMs = 40 }: { paceMs?: number } = {}): Promise<{ config: GatewayConfig; standIn: StandIn }> {
  if (!config.demo || config.production) throw new Error('the demo upstream exists only in demo mode')
  const { appId, apiKey, keyId, secretKey } = config.algolia
  // The demo always generates a search-only parent (src/config/demo.ts, demoAlgolia).
  const searchKey = config.algolia.searchKey!
  const standIn = createStandIn({
    appId,
    apiKeys: new Map([[apiKey, ['search', 'logs']], [searchKey, ['search']]]),
    // The search-only parent is set up the way the key audit recommends.
    keyDetails: new Map([[searchKey, { maxQueriesPerIPPerHour: 1000, referers: ['http://127.0.0.1:*', 'http://localhost:*'] }]]),
    authenticationKeys: new Map([[keyId, secretKey]]),
    agents: config.policy.allowedAgentIds,
    paceMs
  })
  const agentStudioUrl = await standIn.listen()
  return {
    config: Object.freeze({ ...config, algolia: Object.freeze({ ...config.algolia, agentStudioUrl, searchApiUrl: new URL(agentStudioUrl.origin) }) }),
    standIn
  }
} satisfies StartDemoUpstream
