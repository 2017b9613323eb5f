import proxyAddr from '@fastify/proxy-addr'
import type { FastifyInstance } from 'fastify'
import { isLoopbackAddress } from '../config/addresses.js'
import { notFoundHandler } from '../error-handler.js'
import { allowListMatcher } from '../limits/allow-list.js'
import type { LiveLimits } from '../config/live-limits.js'
import type { Metrics } from '../metrics.js'

export interface MetricsRouteOptions {
  readonly metrics: Metrics
  /** The limits in force: their allow-list (limits.allowList) may scrape, read per request. */
  readonly live: LiveLimits
  /** The named scrapers (METRICS_ALLOW_FROM), IPs or CIDRs. */
  readonly allowFrom: readonly string[]
  /** The admin listener: whoever can connect may scrape (ADMIN_HOST and the network decide who can). */
  readonly anyPeer?: boolean
}

/**
 * `GET /metrics`, Prometheus text.
 *
 * Deny by default: only loopback, the internal allow-list (limits.allowList) and the named
 * scrapers (METRICS_ALLOW_FROM) may scrape; anyone else gets the same 404 as for a route
 * that does not exist. The address judged is request.ip, the client address by the same
 * trusted-proxy walk as the per-IP limit: behind a proxy on the same host
 * (TRUSTED_PROXIES=127.0.0.1) the socket peer is loopback for every client, so judging the
 * peer let anyone scrape (issue 11). A separate METRICS_PORT was the alternative; it needs a
 * second listener with its own cap and timeouts, and one decision made the same way for
 * limits and metrics is easier to get right.
 */
export default async function metricsRoute(app: FastifyInstance, options: MetricsRouteOptions) {
  const { metrics } = options
  const allowListed = allowListMatcher(options.live)
  const scrapers = options.allowFrom.length === 0 ? undefined : proxyAddr.compile([...options.allowFrom])
  const internal = (address: string | undefined) =>
    options.anyPeer === true || (address !== undefined && (isLoopbackAddress(address) || allowListed(address) || (scrapers?.(address, 0) ?? false)))

  app.get('/metrics', async (request, reply) => {
    if (!internal(request.ip)) return notFoundHandler(request, reply)
    reply.type(metrics.registry.contentType).header('cache-control', 'no-store')
    return metrics.registry.metrics()
  })
}
