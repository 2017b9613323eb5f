import pino from 'pino'
import type { DestinationStream, Logger } from 'pino'

/**
 * Secrets must never reach a log line. The gateway never logs headers or bodies, and these
 * explicit paths (compiled once; wildcards cost on every line) catch the shapes that could
 * still carry one: request/response headers and an upstream call's options on an error.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-algolia-api-key"]',
  'req.headers["x-algolia-secure-user-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-algolia-api-key"]',
  'headers["x-algolia-secure-user-token"]',
  'err.headers.authorization',
  'err.headers.cookie',
  'err.headers["x-algolia-api-key"]',
  'err.headers["x-algolia-secure-user-token"]'
]

export interface LoggerOptions {
  readonly level: string
  /** Human-readable output (pino-pretty, a development dependency): the demo's, never the gateway's. */
  readonly pretty?: boolean
}

export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  const base = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'agent-studio-gateway' }
  }
  if (destination !== undefined) return pino(base, destination)
  if (options.pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' } } })
  }
  return pino(base)
}
