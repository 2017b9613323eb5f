import closeWithGrace from 'close-with-grace'
import type { FastifyPluginAsync } from 'fastify'
import type { Logger } from 'pino'
import { Agent } from 'undici'
import { buildApp } from './app.js'
import { reloadSecretsFromProcess } from './config/load-config.js'
import type { LoadedConfig } from './config/load-config.js'
import { describeRedis } from './config/redis.js'
import type { GatewayConfig } from './config/types.js'
import { credentialsFromConfig } from './credentials/credentials.js'
import { auditKeys } from './keys/key-audit.js'
import { createLogger } from './logging/logger.js'
import { RedisIncompatible } from './redis/index.js'

export interface ServeOptions {
  /** Default: JSON lines at the configured level. */
  readonly logger?: Logger
  /** Routes served beside the gateway's own; the gateway has none of its own to add (the demo passes its pages). */
  readonly plugins?: readonly FastifyPluginAsync[]
  /** SIGHUP re-reads the secrets from the environment (default); off where they were generated (the demo). */
  readonly reloadSecrets?: boolean
  /** Runs once the gateway has closed (the demo's stand-in). */
  readonly afterClose?: () => Promise<void>
  /** Runs once the public listener is up, with its address. */
  readonly onListening?: (address: string) => void
}

/**
 * Audits the keys, builds the app, listens, and shuts down gracefully: the gateway's one way to
 * serve, used by its entry point (src/server.ts) and by the demo (demo/main.ts), which adds its
 * pages and its stand-in from outside.
 */
export async function serve(loaded: LoadedConfig, options: ServeOptions = {}): Promise<void> {
  const { config } = loaded
  const logger = options.logger ?? createLogger(config.log)
  for (const warning of loaded.warnings) logger.warn(warning)

  const auditFindings = await auditOrExit(config, logger)

  // Kept here, handed to the app, so SIGHUP can rotate the secrets in force.
  const credentials = credentialsFromConfig(config)
  const app = await buildApp(config, { logger, credentials, plugins: options.plugins ?? [] })
  app.metrics.keyAuditProblems.set(auditFindings)

  // SIGHUP: re-read the policy file's limits and the secrets (from their *_FILE files); the
  // policy file is also watched (POLICY_RELOAD_INTERVAL_SECONDS), the way a Kubernetes
  // ConfigMap reaches every replica. Counters and connections are kept; anything invalid is
  // rejected with its problems logged, and what is in force stays.
  app.policy.watch(config.server.policyReloadIntervalSeconds * 1000)
  process.on('SIGHUP', () => {
    app.policy.reload('signal')
    if (options.reloadSecrets === false) return
    const reread = reloadSecretsFromProcess({ requireSearchKey: config.searchKey.enabled })
    if ('problems' in reread) {
      app.metrics.reloads.inc({ what: 'secrets', outcome: 'rejected' })
      logger.error({ problems: reread.problems }, 'secrets reload rejected: the secrets in force are unchanged')
      return
    }
    const { changed, userTokenKeyId } = credentials.rotate(reread.secrets)
    app.metrics.reloads.inc({ what: 'secrets', outcome: 'applied' })
    logger.info({ changed, userTokenKeyId }, changed.length === 0 ? 'secrets reloaded: nothing changed' : 'secrets reloaded')
  })

  closeWithGrace({ delay: config.server.shutdownGraceMs, skip: ['SIGHUP'], logger }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'fatal error, shutting down')
    else logger.info({ signal, graceMs: config.server.shutdownGraceMs }, 'shutting down: no new connections, letting streams in flight finish')
    await app.close()
    await options.afterClose?.()
  })

  const address = await app.listen({ host: config.server.host, port: config.server.port })
  const adminAddress = app.admin === undefined ? undefined : await app.admin.listen({ host: config.server.adminHost, port: config.server.adminPort })
  logger.info(startupFacts(config, address, app.server.maxConnections, adminAddress), 'agent-studio-gateway listening')
  // Lines are written in batches (logger.ts): whoever waits for this one sees it now.
  logger.flush()
  options.onListening?.(address)
}

/** How a start that failed after the configuration was read ends: one plain sentence, exit code 1. */
export function exitOnStartFailure(error: unknown): never {
  // Redis answered and refused the limits scripts (ACL, a cluster used as one Redis): a
  // configuration problem, said plainly, like the others (issue 21).
  if (error instanceof RedisIncompatible) {
    process.stderr.write(`agent-studio-gateway: refusing to start: ${error.message}\n`)
    process.exit(1)
  }
  process.stderr.write(`agent-studio-gateway failed to start: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
}

/**
 * Refuses to start with an over-privileged key (see src/keys/key-audit.ts), unless told to skip.
 * Returns how many findings it let pass (warnings; a skipped audit counts as one), for the
 * gateway_key_audit_problems gauge.
 */
async function auditOrExit(config: GatewayConfig, logger: Logger): Promise<number> {
  if (config.server.skipKeyAudit) {
    logger.warn('*** KEY AUDIT SKIPPED (SKIP_KEY_AUDIT=true): the ACLs of the Algolia keys were NOT checked. Use only for air-gapped starts. ***')
    return 1
  }
  const dispatcher = new Agent()
  const audit = await auditKeys(config, dispatcher).finally(() => dispatcher.close())
  const problems = config.production ? [...audit.problems, ...audit.unverifiable] : audit.problems
  const warnings = config.production ? audit.warnings : [...audit.unverifiable.map((text) => `${text} (refused under NODE_ENV=production)`), ...audit.warnings]
  for (const warning of warnings) logger.warn(`key audit: ${warning}`)
  if (problems.length > 0) {
    process.stderr.write(
      `agent-studio-gateway: refusing to start, the key audit found ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`
    )
    process.exit(1)
  }
  if (audit.unverifiable.length === 0) logger.info('key audit passed: every key has only the ACLs the enabled routes need')
  return warnings.length
}

/** What ops need to see at start: where, which upstream, which policy. Never a secret. */
function startupFacts(config: GatewayConfig, address: string, maxConnections: number, adminAddress: string | undefined) {
  return {
    address,
    adminAddress: adminAddress ?? null,
    configFile: config.configFile,
    upstream: config.algolia.agentStudioUrl.href,
    appId: config.algolia.appId,
    userTokenKeyId: config.algolia.keyId,
    searchApi: config.algolia.searchApiUrl.href,
    searchKey: config.searchKey,
    session: config.session.kind === 'jwt' ? `jwt (${config.session.key.type})` : 'forward-auth',
    policy: { ...config.policy },
    limits: config.limits,
    limitsStore:
      config.redis.connection === undefined
        ? 'memory (this replica only)'
        : `redis ${describeRedis(config.redis.connection)} (mode ${config.redis.connection.mode}, namespace ${config.redis.namespace})`,
    trustedProxies: config.server.trustedProxies,
    maxConnections,
    clientTimeouts: {
      headersMs: config.server.headersTimeoutMs,
      requestMs: config.server.requestTimeoutMs,
      keepAliveMs: config.server.keepAliveTimeoutMs,
      connectionMs: config.server.connectionTimeoutMs
    },
    upstreamTimeouts: { ...config.upstream }
  }
}
