import { createSocket } from 'node:dgram'
import { hostname } from 'node:os'
import type { EventEmitter } from 'node:events'
import { Writable } from 'node:stream'
import pino from 'pino'
import type { DestinationStream, Logger } from 'pino'
import type { AuditConfig } from '../config/audit.js'
import { clientTextForLog } from '../logging/escape.js'
import { ROUTE_AUDIT_ACTIONS } from '../config/route-table.js'

/**
 * Issue 24: the audit trail of privileged actions, one JSON line per action on a pino logger of
 * its own (its own destination: docs/usage-and-governance.md lists the fields). What an event
 * holds is fixed by AuditEvent and nothing else is written: ids and outcomes, never a message, a
 * feedback note, a tool's arguments or a credential.
 */
export const AUDIT_ACTIONS = [...ROUTE_AUDIT_ACTIONS, 'tool_approval'] as const
export type AuditAction = (typeof AUDIT_ACTIONS)[number]

/** `succeeded` (2xx, an approval accepted), `refused` (4xx, an approval refused), `failed` (5xx), `abandoned` (the client left first). */
export type AuditOutcome = 'succeeded' | 'refused' | 'failed' | 'abandoned'

export interface AuditEvent {
  readonly action: AuditAction
  readonly outcome: AuditOutcome
  /** The request it came with (`x-request-id`, the `reqId` of the request's log line). */
  readonly requestId: string
  /** Who: the signed-in user (absent when the session itself was refused). */
  readonly userId?: string
  /** The HTTP status the browser got (absent for an approval, decided inside its request). */
  readonly status?: number
  /** Why it was refused or failed: the error code, as on the request's log line. */
  readonly reason?: string
  readonly agentId?: string
  /** The conversation as the browser names it (never the upstream id). */
  readonly conversationId?: string
  readonly toolCallId?: string
  readonly toolName?: string
  /** A tool approval's decision: true approved, false denied. */
  readonly approved?: boolean
}

/** The fields an event may have, for the documentation test (the compiler keeps it whole). */
const FIELDS: Record<keyof AuditEvent, true> = {
  action: true,
  outcome: true,
  requestId: true,
  userId: true,
  status: true,
  reason: true,
  agentId: true,
  conversationId: true,
  toolCallId: true,
  toolName: true,
  approved: true
}
export const AUDIT_EVENT_FIELDS: readonly string[] = Object.keys(FIELDS)

export interface AuditLog {
  write(event: AuditEvent): void
  close(): Promise<void>
}

export function createAuditLog(
  config: AuditConfig,
  onWrite: (event: AuditEvent) => void = () => undefined,
  destination?: DestinationStream,
  onFailure: (error: Error) => void = () => undefined
): AuditLog {
  const stream = destination ?? auditDestination(config)
  // A destination that fails (a full disk, a closed pipe) is counted and told, never a crash:
  // pino re-emits a destination's error, and with no listener Node ends the process.
  ;(stream as Partial<EventEmitter>).on?.('error', (error: Error) => onFailure(error))
  // Not named `logger`: this is the audit trail, documented in docs/usage-and-governance.md, not docs/logging.md.
  const trail: Logger = pino({ base: { service: 'agent-studio-gateway', log: 'audit' }, level: 'info' }, stream)
  return {
    write(event) {
      // Only the declared fields, each copied by name: nothing a caller adds reaches the line.
      // Texts a client shapes (user, conversation and tool call ids, tool names) are cut and
      // escaped as on the request's log line: a raw U+2028 or bidi override would split or
      // disguise the line in whatever reads the trail.
      const line: Record<string, unknown> = {}
      for (const field of AUDIT_EVENT_FIELDS) {
        const value = event[field as keyof AuditEvent]
        if (value !== undefined) line[field] = typeof value === 'string' ? clientTextForLog(value) : value
      }
      trail.info(line, 'audit')
      onWrite(event)
    },
    async close() {
      // A file destination still opening cannot flush yet; what it holds is written as it opens.
      try {
        trail.flush()
      } catch {}
      const end = (stream as { end?: () => void }).end
      if (stream !== process.stdout && stream !== process.stderr && destination === undefined && typeof end === 'function') end.call(stream)
    }
  }
}

function auditDestination(config: AuditConfig): DestinationStream {
  switch (config.destination) {
    case 'stdout':
      return pino.destination({ dest: 1, sync: false })
    case 'stderr':
      return pino.destination({ dest: 2, sync: false })
    // Appended, created with its directory if missing; a failure to open stops the start (reported by pino).
    case 'file':
      return pino.destination({ dest: config.path!, mkdir: true, append: true, sync: false })
    case 'syslog':
      return syslogDestination(config.syslog!)
  }
}

/**
 * RFC 5424 over UDP (RFC 5426): one datagram per event, facility auth (4), severity notice (5),
 * the JSON line as the message. UDP never blocks the gateway; a collector that is down loses
 * events, so ship to a local relay (rsyslog, a sidecar) that forwards reliably.
 */
export function syslogDestination(target: { readonly host: string; readonly port: number; readonly appName: string }): DestinationStream & Writable {
  const socket = createSocket(target.host.includes(':') ? 'udp6' : 'udp4')
  socket.unref()
  const host =
    hostname()
      .replace(/[^!-~]/g, '')
      .slice(0, 255) || '-'
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const json = chunk.toString('utf8').trimEnd()
      const message = Buffer.from(`<37>1 ${new Date().toISOString()} ${host} ${target.appName} ${process.pid} audit - ${json}`)
      socket.send(message, target.port, target.host, () => done())
    },
    final(done) {
      socket.close()
      done()
    }
  })
}
