import { ConfigError } from '../src/config/load-config.js'
import { createLogger } from '../src/logging/logger.js'
import { exitOnStartFailure, serve } from '../src/serve.js'
import { runsDemo } from './config.js'
import { prepareDemo } from './prepare.js'
import type { PreparedDemo } from './prepare.js'

/**
 * `npm start`. With nothing of a deployment configured (and not under NODE_ENV=production):
 * the embedded demo, which starts the Agent Studio stand-in and configures the gateway to use
 * it, with generated keys and a sign-in page. Otherwise the configured gateway, exactly as
 * `node dist/server.js` serves it. The gateway (src/) knows nothing of either.
 */
if (!runsDemo(process.env)) {
  await import('../src/server.js')
} else {
  let demo: PreparedDemo
  try {
    demo = await prepareDemo(process.env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`agent-studio-gateway demo: ${error.message}\n`)
    process.exit(1)
  }
  const { config, warnings, standIn, pages } = demo
  await serve(
    { config, warnings },
    {
      logger: createLogger({ level: config.log.level, pretty: true }),
      plugins: [pages],
      reloadSecrets: false,
      afterClose: () => standIn.close(),
      onListening: (address) => {
        process.stdout.write(
          `\n\n  *** DEMO MODE — NOT FOR PRODUCTION ***\n` +
            `  Built-in Agent Studio stand-in (standin/) and a demo sign-in that trusts anyone.\n` +
            `  Open ${address}/demo/login?user=alice and chat.\n` +
            `  Configure ALGOLIA_* and SESSION_* variables (see docs/configuration.md) to run for real.\n\n`
        )
      }
    }
  ).catch(exitOnStartFailure)
}
