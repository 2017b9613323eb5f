import { randomUUID } from 'node:crypto'
import proxyAddr from '@fastify/proxy-addr'
import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Dispatcher } from 'undici'
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'
import type { GatewayConfig } from './config/types.js'
import { UserTokenMinter } from './credentials/user-token.js'
import { LiveSecrets } from './credentials/live-secrets.js'
import demoRoutes from './demo/demo-routes.js'
import { buildErrorHandler, clientErrorHandler, frameworkErrorHandler, notFoundHandler } from './error-handler.js'
import { createLogger } from './logging/logger.js'
import drainOnClose from './plugins/drain-on-close.js'
import requestSummary from './logging/request-summary.js'
import corsPolicy from './plugins/cors.js'
import agentStudioRoutes from './routes/agent-studio/index.js'
import healthRoutes from './routes/health.js'
import { buildAuthenticator } from './session/authenticate.js'
import { createUpstreamDispatcher } from './upstream/dispatcher.js'
import { createUpstream } from './upstream/forward.js'
import { LiveLimits } from './limits/live-limits.js'
import { allowListMatcher } from './limits/allow-list.js'
import { REDIS_ANSWER_TIMEOUT_MS, createRedisClient, waitForRedis } from './limits/redis-client.js'
import { memoryAdmission } from './limits/memory-admission.js'
import { redisAdmission } from './limits/redis-admission.js'
import { holdOffFromRetryAfter } from './upstream/hold-off.js'
import { createMetrics } from './metrics.js'
import { connectionCap, descriptorLimit } from './connection-cap.js'
import httpHygiene from './plugins/http-hygiene.js'
import { loadTracing } from './tracing/tracing.js'

export interface AppDependencies {
  readonly logger?: Logger
  /** The limits in force; server.ts keeps it to apply SIGHUP reloads. */
  readonly live?: LiveLimits
  /** Called with the secrets in force, so server.ts can rotate them on SIGHUP. */
  readonly onSecrets?: (secrets: LiveSecrets) => void
  /** The connection pool for Agent Studio and the session endpoints; created from config if absent. */
  readonly dispatcher?: Dispatcher
  /** Injectable clock (milliseconds since the epoch), for tests. */
  readonly now?: () => number
  /** Where spans go when tracing is on (tests: an in-memory exporter); default OTLP/HTTP. */
  readonly spanExporter?: SpanExporter
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

  // Connections beyond the cap are closed as soon as they are accepted (see src/connection-cap.ts).
  app.server.maxConnections = connectionCap(config.server.maxConnections, descriptorLimit())
  reportDroppedConnections(app, logger)

  app.setErrorHandler(buildErrorHandler(config.policy.bodyLimitBytes))
  app.setNotFoundHandler(notFoundHandler)
  const live = deps.live ?? new LiveLimits(config.limits)
  const metrics = createMetrics({ streamCaps: () => live.current.streams })
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
  await app.register(healthRoutes, { agentStudioUrl: config.algolia.agentStudioUrl, dispatcher })
  if (config.server.metrics) {
    // Deny by default: only loopback, the internal allow-list (limits.allowList) and the named
    // scrapers (METRICS_ALLOW_FROM) may scrape; anyone else gets the same 404 as for a route
    // that does not exist. The address judged is request.ip, the client address by the same
    // trusted-proxy walk as the per-IP limit: behind a proxy on the same host
    // (TRUSTED_PROXIES=127.0.0.1) the socket peer is loopback for every client, so judging the
    // peer let anyone scrape (issue 11). A separate METRICS_PORT was the alternative; it needs a
    // second listener with its own cap and timeouts, and one decision made the same way for
    // limits and metrics is easier to get right.
    const allowListed = allowListMatcher(live)
    const scrapers = config.server.metricsAllowFrom.length === 0 ? undefined : proxyAddr.compile([...config.server.metricsAllowFrom])
    const internal = (address: string | undefined) =>
      address !== undefined && (isLoopback(address) || allowListed(address) || (scrapers?.(address, 0) ?? false))
    app.get('/metrics', async (request, reply) => {
      if (!internal(request.ip)) return notFoundHandler(request, reply)
      reply.type(metrics.registry.contentType).header('cache-control', 'no-store')
      return metrics.registry.metrics()
    })
  }

  const minter = new UserTokenMinter({
    key: { keyId: config.algolia.keyId, secret: config.algolia.secretKey },
    ttlSeconds: config.userToken.ttlSeconds,
    ...(now === undefined ? {} : { now })
  })
  const secrets = new LiveSecrets(config.algolia.appId, {
    apiKey: config.algolia.apiKey,
    searchKey: config.algolia.searchKey,
    signingKey: { keyId: config.algolia.keyId, secret: config.algolia.secretKey }
  }, minter)
  deps.onSecrets?.(secrets)
  const authenticate = buildAuthenticator(
    config.session,
    { allowedOrigins: new Set(config.policy.allowedOrigins), allowCookieRequestsWithoutOrigin: config.policy.allowCookieRequestsWithoutOrigin },
    {
      dispatcher,
      ...(now === undefined ? {} : { now: () => new Date(now()) }),
      onJwksFallback: (error) => app.log.warn({ err: error }, 'JWKS endpoint unreachable; verifying with the keys fetched last')
    }
  )
  const redis = config.redis.url === undefined ? undefined : createRedisClient(config.redis.url, logger)
  const admission = redis === undefined
    ? memoryAdmission()
    : redisAdmission({ redis, namespace: config.redis.namespace, metrics, logger, timeoutMs: REDIS_ANSWER_TIMEOUT_MS, leaseMs: () => live.current.streams.leaseSeconds * 1000 })
  // Upstream's 429 holds every replica off for its retry-after (issue 10).
  const holdOff = holdOffFromRetryAfter((ms) => admission.holdOff(ms))
  const upstream = createUpstream(config.algolia.agentStudioUrl, config.upstream, dispatcher, {
    onAuthFailed: (status) => metrics.upstreamAuthFailures.inc({ status: String(status) }),
    onRateLimited: (_seconds, retryAfter) => {
      metrics.upstreamRateLimited.inc()
      holdOff(retryAfter)
    }
  })
  await app.register(agentStudioRoutes, { config, authenticate, minter, upstream, live, admission, metrics, secrets })

  if (config.demo) await app.register(demoRoutes, { config })

  if (redis === undefined) metrics.registry.removeSingleMetric('gateway_redis_up')
  if (redis !== undefined) {
    redis.on('ready', () => metrics.redisUp.set(1))
    redis.on('close', () => metrics.redisUp.set(0))
    app.addHook('onReady', async () => {
      if (!(await waitForRedis(redis, 3000))) app.log.warn(`Redis not reachable at start; the limits failure policy (${live.current.onRedisError}) applies until it is`)
    })
    app.addHook('onClose', async () => {
      await admission.close()
      redis.disconnect()
    })
  }
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

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')
}
