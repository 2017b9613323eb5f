import { ConfigError, loadConfigFromProcess } from './config/load-config.js'
import type { LoadedConfig } from './config/load-config.js'
import { exitOnStartFailure, serve } from './serve.js'

/**
 * The gateway's entry point (`node dist/server.js`, the image's command): read and validate the
 * configuration, say every problem at once and exit 1, or serve. The embedded demo is a
 * separate program (demo/main.ts, `npm start`) that configures this same gateway.
 */
let loaded: LoadedConfig
try {
  loaded = loadConfigFromProcess()
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  process.stderr.write(`agent-studio-gateway: ${error.message}\n`)
  process.exit(1)
}
await serve(loaded).catch(exitOnStartFailure)
