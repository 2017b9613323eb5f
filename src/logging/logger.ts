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

/**
 * Issue 26: log lines are gathered and written together, at most LOG_FLUSH_MS after they were
 * logged (or once LOG_BUFFER_BYTES are waiting), instead of one write system call per line, which
 * was a tenth of the gateway's CPU per request. Written at once at exit, whatever ends the process
 * short of SIGKILL (pino flushes on 'exit'; a fatal error is logged, then the process exits), and
 * after the start-up line (src/serve.ts). What a SIGKILL or an out-of-memory abort loses: the
 * lines of the last LOG_FLUSH_MS.
 */
export const LOG_FLUSH_MS = 250
const LOG_BUFFER_BYTES = 8 * 1024

function bufferedStdout(): DestinationStream & { flush(cb?: (error?: Error) => void): void } {
  const destination = pino.destination({ dest: 1, minLength: LOG_BUFFER_BYTES, sync: false })
  // Armed by the first line after a write, so an idle gateway makes no write at all.
  let timer: NodeJS.Timeout | undefined
  const flushNow = () => {
    timer = undefined
    destination.flush()
  }
  return {
    write(line: string) {
      destination.write(line)
      timer ??= setTimeout(flushNow, LOG_FLUSH_MS).unref()
    },
    flush: (cb) => destination.flush(cb)
  }
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
  return pino(base, bufferedStdout())
}
