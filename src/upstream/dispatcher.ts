import { Agent } from 'undici'
import type { UpstreamConfig } from '../config/types.js'

/**
 * One connection pool for every upstream call. Each open stream holds one HTTP/1.1
 * connection, so the pool is sized by UPSTREAM_MAX_CONNECTIONS (default 16,384), not by
 * undici's or reply-from's defaults (128 per origin), past which stream 129 would wait.
 */
export function createUpstreamDispatcher(config: UpstreamConfig): Agent {
  return new Agent({
    connections: config.maxConnections,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    connect: { timeout: config.connectTimeoutMs },
    headersTimeout: config.firstByteTimeoutMs,
    bodyTimeout: config.idleTimeoutMs
  })
}
