import { randomUUID } from 'node:crypto'
import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { limitConnectionsPerAddress } from './connection-cap.js'
import { buildErrorHandler, notFoundHandler } from './error-handler.js'
import type { LiveLimits } from './config/live-limits.js'
import requestSummary from './logging/request-summary.js'
import type { Metrics } from './metrics.js'
import healthRoutes from './routes/health.js'
import type { HealthOptions } from './routes/health.js'
import metricsRoute from './routes/metrics.js'

/** Probes and scrapers are few; a small cap keeps them from using the public listener's reserve of descriptors. */
const ADMIN_MAX_CONNECTIONS = 64
/**
 * One peer's share of it (review finding: 64 idle sockets from one pod took the liveness probe
 * down), and deadlines short enough that an idle or trickling socket does not keep its place:
 * a kubelet probe or a scrape sends its request at once and is answered in milliseconds.
 */
const ADMIN_CONNECTIONS_PER_ADDRESS = 8
const ADMIN_DEADLINE_MS = 5000

export interface AdminAppOptions {
  readonly logger: Logger
  readonly health: HealthOptions
  readonly metrics: Metrics
  readonly live: LiveLimits
  readonly serveMetrics: boolean
}

/**
 * The admin listener (ADMIN_PORT): `/healthz`, `/readyz` and `/metrics`, nothing else, on a
 * server of its own. Issue 22: on the public listener, an anonymous client that filled the
 * connection cap also failed the liveness probe, and Kubernetes restarted healthy pods, cutting
 * every stream. Here no outside client can exhaust what liveness depends on. It stays up while
 * the public listener drains (its /readyz says 503 meanwhile) and closes with the app.
 * Its request lines are logged at warn and above only: probes every few seconds would drown
 * the log.
 */
export async function buildAdminApp(options: AdminAppOptions): Promise<FastifyInstance> {
  const admin = Fastify({
    loggerInstance: options.logger.child({ listener: 'admin' }, { level: 'warn' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    bodyLimit: 1024,
    forceCloseConnections: true,
    connectionTimeout: ADMIN_DEADLINE_MS,
    keepAliveTimeout: ADMIN_DEADLINE_MS,
    requestTimeout: ADMIN_DEADLINE_MS,
    http: { headersTimeout: ADMIN_DEADLINE_MS, requestTimeout: ADMIN_DEADLINE_MS, connectionsCheckingInterval: 1000 }
  })
  admin.server.maxConnections = ADMIN_MAX_CONNECTIONS
  limitConnectionsPerAddress(admin.server, {
    max: ADMIN_CONNECTIONS_PER_ADDRESS,
    exempt: () => false,
    onRefused: () => options.metrics.connectionsRefused.inc({ reason: 'admin_per_address' })
  })
  admin.setErrorHandler(buildErrorHandler(1024))
  admin.setNotFoundHandler(notFoundHandler)
  await admin.register(requestSummary, { metrics: options.metrics })
  await admin.register(healthRoutes, options.health)
  if (options.serveMetrics) await admin.register(metricsRoute, { metrics: options.metrics, live: options.live, allowFrom: [], anyPeer: true })
  return admin
}
