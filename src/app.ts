import { randomUUID } from 'node:crypto'
import proxyAddr from '@fastify/proxy-addr'
import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { DestinationStream, Logger } from 'pino'
import type { Dispatcher } from 'undici'
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'
import type { GatewayConfig } from './config/types.js'
import { credentialsFromConfig } from './credentials/credentials.js'
import type { Credentials } from './credentials/credentials.js'
import { buildErrorHandler, clientErrorHandler, frameworkErrorHandler, notFoundHandler } from './error-handler.js'
import { createLogger } from './logging/logger.js'
import drainOnClose from './plugins/drain-on-close.js'
import requestSummary from './logging/request-summary.js'
import corsPolicy from './plugins/cors.js'
import agentStudioRoutes from './routes/agent-studio/index.js'
import healthRoutes from './routes/health.js'
import type { HealthOptions } from './routes/health.js'
import { buildAdminApp } from './admin-app.js'
import metricsRoute from './routes/metrics.js'
import { buildAuthenticator } from './session/authenticate.js'
import { createUpstreamDispatcher } from './upstream/dispatcher.js'
import { createUpstream } from './upstream/forward.js'
import { LiveLimits } from './config/live-limits.js'
import { LiveAgents } from './config/live-agents.js'
import { PolicyReloader } from './config/policy-reloader.js'
import { memoryAdmission } from './limits/memory-admission.js'
import { ErasureService } from './erasure/erasure-service.js'
import { memoryErasureStore } from './erasure/erasure-store.js'
import { connectRedis } from './redis/index.js'
import { createMetrics } from './metrics.js'
import { connectionCap, connectionsFull, descriptorLimit, limitConnectionsPerAddress, perAddressCap } from './connection-cap.js'
import httpHygiene from './plugins/http-hygiene.js'
import { loadTracing } from './tracing/tracing.js'
import { memoryTokenStore } from './usage/token-store.js'
import { usageMeter } from './usage/usage-meter.js'
import { tenantOfUser } from './session/tenant.js'
import { createAuditLog } from './audit/audit-log.js'
import { approvalService } from './approvals/approvals.js'
import { memoryApprovalStore } from './approvals/approval-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The policy file's limits in force, their version, and how they are reloaded (SIGHUP, watch). */
    policy: PolicyReloader
    /** The admin listener's app (ADMIN_PORT), built here, listened on by server.ts; absent without ADMIN_PORT. */
    admin?: FastifyInstance
  }
}

export interface AppDependencies {
  readonly logger?: Logger
  /** The limits in force (tests that change them directly pass their own); created from config if absent. */
  readonly live?: LiveLimits
  /** The per-agent settings in force; created from config if absent. */
  readonly agents?: LiveAgents
  /** What leaves with upstream requests; server.ts keeps it to rotate the secrets on SIGHUP. Created from config if absent. */
  readonly credentials?: Credentials
  /** The connection pool for Agent Studio and the session endpoints; created from config if absent. */
  readonly dispatcher?: Dispatcher
  /** Injectable clock (milliseconds since the epoch), for tests. */
  readonly now?: () => number
  /** Where spans go when tracing is on (tests: an in-memory exporter); default OTLP/HTTP. */
  readonly spanExporter?: SpanExporter
  /** Routes served beside the gateway's own, registered after them (the demo's pages, from demo/). */
  readonly plugins?: readonly FastifyPluginAsync[]
  /** Where the audit trail goes (tests: a capture); default the policy file's `audit:` destination. */
  readonly auditDestination?: DestinationStream
}

/**
 * The composition root: builds everything from a validated config and never listens
 * (server.ts does). Tests build exactly what production runs.
 */
export async function buildApp(config: GatewayConfig, deps: AppDependencies = {}): Promise<FastifyInstance> {
  const logger = deps.logger ?? createLogger(config.log)
  const dispatcher = deps.dispatcher ?? createUpstreamDispatcher(config.upstream)
  const now = deps.now

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Our own summary line replaces Fastify's two lines per request.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    // The browser does not get to choose ids that appear in our logs.
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    bodyLimit: config.policy.bodyLimitBytes,
    return503OnClosing: true,
    // Issue 11: without these, a client trickling a body (or saying nothing at all) kept its
    // socket for as long as it liked. Node answers 408 and closes when the headers or the whole
    // request take too long; an idle kept-alive socket closes after keepAliveTimeout; a socket
    // silent in both directions closes after connectionTimeout (above the upstream timeouts, so
    // a browser waiting for a slow answer is not cut).
    connectionTimeout: config.server.connectionTimeoutMs,
    keepAliveTimeout: config.server.keepAliveTimeoutMs,
    requestTimeout: config.server.requestTimeoutMs,
    http: {
      headersTimeout: config.server.headersTimeoutMs,
      requestTimeout: config.server.requestTimeoutMs,
      // Node checks those two timeouts on this interval (30 s by default, which would let a slow
      // client keep its socket up to 30 s past them).
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(config.server.headersTimeoutMs / 4)))
    },
    // X-Forwarded-For is believed only from these proxies (RFC 7239 §5.2 caveats apply).
    trustProxy: config.server.trustedProxies.length === 0 ? false : [...config.server.trustedProxies],
    // Ids are validated by our own patterns (up to 128 characters), not cut short by the router.
    routerOptions: { maxParamLength: 256 },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // Schemas validate, they do not repair: an extra field or a "1" for 1 is refused, not fixed up.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error'
  })

  // Connections beyond the cap, or beyond one address's share of it, are closed as soon as they
  // are accepted (see src/connection-cap.ts).
  app.server.maxConnections = connectionCap(config.server.maxConnections, descriptorLimit())
  reportDroppedConnections(app, logger)

  app.setErrorHandler(buildErrorHandler(config.policy.bodyLimitBytes))
  app.setNotFoundHandler(notFoundHandler)
  const live = deps.live ?? new LiveLimits(config.limits)
  const agents = deps.agents ?? new LiveAgents(config.agents, config.upstream.origin)
  // The policy file's limits and agents, re-read on SIGHUP and by the watch server.ts starts (app.policy).
  const policy = new PolicyReloader({
    configFile: config.configFile,
    live,
    agents,
    agentsContext: { allowedAgentIds: config.policy.allowedAgentIds, agentTenantIsolation: config.searchKey.agentTenantIsolation },
    logger,
    onReload: (outcome) => metrics.reloads.inc({ what: 'limits', outcome })
  })
  const metrics = createMetrics({ streamCaps: () => live.current.streams, policy: () => policy.version })
  app.decorate('policy', policy)
  app.addHook('onClose', async () => policy.stop())
  const trustedProxy = config.server.trustedProxies.length === 0 ? () => false : proxyAddr.compile([...config.server.trustedProxies])
  limitConnectionsPerAddress(app.server, {
    max: perAddressCap(config.server.maxConnectionsPerAddress, app.server.maxConnections),
    exempt: (address) => trustedProxy(address, 0),
    onRefused: () => metrics.connectionsRefused.inc({ reason: 'per_address' })
  })
  await app.register(requestSummary, { metrics })
  // After the summary (its trace id goes on the line), before everything it traces.
  const tracing = await loadTracing(config.tracing, logger, deps.spanExporter)
  if (tracing !== undefined) {
    await tracing.register(app)
    app.addHook('onClose', () => tracing.shutdown())
  }
  await app.register(drainOnClose)
  await app.register(httpHygiene)
  // CORS_ALLOWED_HEADERS (default: content-type, authorization, traceparent, tracestate), so a
  // page may send trace context whether or not tracing is on; none of them goes upstream.
  await app.register(corsPolicy, { policy: config.policy })
  // Set when the public listener stops accepting (SIGTERM): /readyz says so at once, on both listeners.
  let draining = false
  app.addHook('preClose', async () => {
    draining = true
  })
  // Without REDIS_URL (or REDIS_SENTINELS) the limits hold for this replica only.
  const redisConnection = config.redis.connection
  const redis =
    redisConnection === undefined ? undefined : connectRedis({ connection: redisConnection, namespace: config.redis.namespace, live, metrics, logger })
  const health: HealthOptions = {
    agentStudioUrl: config.algolia.agentStudioUrl,
    dispatcher,
    policy: () => policy.version,
    draining: () => draining,
    connectionsFull: () => connectionsFull(app.server),
    ...(redis === undefined ? {} : { redis: () => redis.health() })
  }
  // With ADMIN_PORT, probes and scrapers have a listener of their own (src/admin-app.ts) and the
  // public one serves these routes only if told to (ADMIN_ROUTES_ON_PUBLIC).
  if (config.server.adminPort === 0 || config.server.adminRoutesOnPublic) {
    await app.register(healthRoutes, health)
    if (config.server.metrics) await app.register(metricsRoute, { metrics, live, allowFrom: config.server.metricsAllowFrom })
  }
  if (config.server.adminPort !== 0) {
    const admin = await buildAdminApp({ logger, health, metrics, live, serveMetrics: config.server.metrics })
    app.decorate('admin', admin)
    // After the public listener has drained (onClose runs once its connections are done), so
    // probes are answered for the whole drain.
    app.addHook('onClose', async () => admin.close())
  }

  const credentials = deps.credentials ?? credentialsFromConfig(config, now)
  const authenticate = buildAuthenticator(
    config.session,
    { allowedOrigins: new Set(config.policy.allowedOrigins), allowCookieRequestsWithoutOrigin: config.policy.allowCookieRequestsWithoutOrigin },
    {
      dispatcher,
      ...(now === undefined ? {} : { now: () => new Date(now()) }),
      onJwksFallback: (error) => app.log.warn({ err: error }, 'JWKS endpoint unreachable; verifying with the keys fetched last')
    }
  )
  // Issue 24: token usage, read by the admission's token budgets (Redis: the same hashes, one script).
  const memoryTokens = redis === undefined ? memoryTokenStore() : undefined
  const tokens = redis?.tokens ?? memoryTokens!
  const admission = redis?.admission ?? memoryAdmission(undefined, memoryTokens!.tokensAt)
  const tenantOf = tenantOfUser(config.session.tenantClaim)
  const meter = usageMeter({ store: tokens, metrics, logger, tenantOf, ...(now === undefined ? {} : { now }) })
  // Issue 24: the audit trail (its own destination) and the tool approval bindings.
  let auditFailureToldAt = 0
  const audit = createAuditLog(
    config.audit,
    (event) => metrics.auditEvents.inc({ action: event.action, outcome: event.outcome }),
    deps.auditDestination,
    (error) => {
      metrics.auditWriteFailures.inc()
      // Once a minute at most: a full disk fails every write.
      if (Date.now() - auditFailureToldAt < 60_000) return
      auditFailureToldAt = Date.now()
      logger.error({ err: error }, 'audit trail: its destination failed; events are being lost (gateway_audit_write_failures_total)')
    }
  )
  app.addHook('onClose', () => audit.close())
  const approvals = approvalService({
    store: redis?.approvals ?? memoryApprovalStore(),
    agents,
    secret: config.algolia.secretKey,
    metrics,
    audit,
    logger,
    ...(now === undefined ? {} : { now })
  })
  const upstream = createUpstream(config.algolia.agentStudioUrl, config.upstream, dispatcher, {
    onAuthFailed: (status) => metrics.upstreamAuthFailures.inc({ status: String(status) }),
    // Upstream's 429 holds every replica off for its bounded retry-after (issue 10), the same
    // number of seconds the browser is told.
    onRateLimited: (seconds) => {
      metrics.upstreamRateLimited.inc()
      admission.holdOff(seconds * 1000)
    }
  })
  // Erasures run as paced jobs apart from their request (src/erasure/): in Redis they are shared
  // by every replica and survive a restart.
  const erasures = new ErasureService({
    store: redis?.erasures ?? memoryErasureStore(),
    admission,
    live,
    agents,
    upstream,
    credentials,
    agentIds: config.policy.allowedAgentIds,
    metrics,
    logger
  })
  await app.register(agentStudioRoutes, {
    config,
    authenticate,
    credentials,
    upstream,
    live,
    agents,
    admission,
    metrics,
    erasures,
    tokens,
    meter,
    tenantOf,
    audit,
    approvals,
    ...(now === undefined ? {} : { now })
  })

  for (const plugin of deps.plugins ?? []) await app.register(plugin)

  if (redis === undefined) metrics.registry.removeSingleMetric('gateway_redis_up')
  else app.addHook('onReady', () => redis.waitUntilReady())
  // Once the store answers: erasures another replica (or this one, before a restart) left unfinished.
  if (config.policy.enableUserData) app.addHook('onReady', () => erasures.watchOrphans())
  // Before Redis closes: jobs stop at their next step and give their claims back.
  app.addHook('onClose', async () => {
    await erasures.close()
    await redis?.close()
  })
  if (deps.dispatcher === undefined) {
    app.addHook('onClose', async () => {
      await dispatcher.close()
    })
  }
  return app
}

/**
 * A flood at the cap would log one line per refused connection; say it at most once a minute,
 * with the count, instead.
 */
function reportDroppedConnections(app: FastifyInstance, logger: Logger): void {
  let dropped = 0
  let lastReport = 0
  app.server.on('drop', () => {
    dropped += 1
    const now = Date.now()
    if (now - lastReport < 60_000) return
    logger.warn({ dropped, maxConnections: app.server.maxConnections }, 'connection cap reached: new connections are closed on accept')
    lastReport = now
    dropped = 0
  })
}
