import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfigFromProcess, reloadLimits } from './config/load-config.js'
import { LiveLimits } from './limits/live-limits.js'
import type { GatewayConfig } from './config/types.js'
import { startDemoUpstream } from './demo/demo-upstream.js'
import { createLogger } from './logging/logger.js'

/** Loads and validates config, builds the app, listens, and shuts down gracefully. */
async function main(): Promise<void> {
  let loaded
  try {
    loaded = loadConfigFromProcess()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`agent-studio-gateway: ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
  let config = loaded.config
  const logger = createLogger(config.log)
  for (const warning of loaded.warnings) logger.warn(warning)

  let closeDemo: (() => Promise<void>) | undefined
  if (config.demo) {
    const demo = await startDemoUpstream(config)
    config = demo.config
    closeDemo = () => demo.standIn.close()
  }

  const live = new LiveLimits(config.limits)
  const app = await buildApp(config, { logger, live })

  // Live tuning: SIGHUP re-reads the policy file's limits. Counters and connections are kept;
  // a bad file is rejected with its problems logged and the limits in force stay.
  const configFile = config.configFile
  process.on('SIGHUP', () => {
    const result = reloadLimits(configFile)
    if ('problems' in result) {
      logger.error({ problems: result.problems, limits: live.current }, 'reload rejected: the limits in force are unchanged')
      return
    }
    live.update(result.limits)
    logger.info({ limits: live.current, configFile }, 'limits reloaded')
  })

  closeWithGrace({ delay: config.server.shutdownGraceMs, skip: ['SIGHUP'], logger }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'fatal error, shutting down')
    else logger.info({ signal, graceMs: config.server.shutdownGraceMs }, 'shutting down: no new connections, letting streams in flight finish')
    await app.close()
    await closeDemo?.()
  })

  const address = await app.listen({ host: config.server.host, port: config.server.port })
  logger.info(startupFacts(config, address), 'agent-studio-gateway listening')
  if (config.demo) {
    logger.warn(
      `\n\n  *** DEMO MODE — NOT FOR PRODUCTION ***\n` +
        `  Built-in Agent Studio stand-in and a demo sign-in that trusts anyone.\n` +
        `  Open ${address}/demo/login?user=alice and chat.\n` +
        `  Configure ALGOLIA_* and SESSION_* variables (see README) to run for real.\n`
    )
  }
}

/** What ops need to see at start: where, which upstream, which policy. Never a secret. */
function startupFacts(config: GatewayConfig, address: string) {
  return {
    address,
    demo: config.demo,
    configFile: config.configFile,
    upstream: config.algolia.agentStudioUrl.href,
    appId: config.algolia.appId,
    userTokenKeyId: config.algolia.keyId,
    session: config.session.kind === 'jwt' ? `jwt (${config.session.key.type})` : 'forward-auth',
    policy: { ...config.policy },
    limits: config.limits,
    limitsStore: config.redis.url === undefined ? 'memory (this replica only)' : `redis (namespace ${config.redis.namespace})`,
    trustedProxies: config.server.trustedProxies,
    upstreamTimeouts: { ...config.upstream }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`agent-studio-gateway failed to start: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
