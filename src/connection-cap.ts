import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import { clientAddressKey } from './limits/client-address.js'

/**
 * Issue 11: 300 idle connections under a 256-descriptor limit used to exhaust the process's
 * descriptors; the next `open()` anywhere (a sampler reading /proc, a log file, an upstream
 * socket) then failed with EMFILE. The cap keeps client connections below the limit, with room
 * for what each may need besides its own socket (one upstream connection) and for the rest of
 * the process (Redis, the JWKS and session endpoints, stdio, /proc reads).
 */
const RESERVED_DESCRIPTORS = 64
/** When the limit cannot be read (no /proc, no shell): what a default 1,024-descriptor runtime allows. */
const FALLBACK_CAP = 480

/** The soft `nofile` limit of this process (`ulimit -n`), or undefined when it cannot be read. */
export function descriptorLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    if (match !== null) return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1])
  } catch {
    // Not Linux: ask the shell below.
  }
  try {
    const answer = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2000 }).trim()
    return answer === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number.parseInt(answer, 10) || undefined
  } catch {
    return undefined
  }
}

/**
 * The most client connections served at once. Configured (MAX_CONNECTIONS > 0) wins; otherwise
 * half of what the descriptor limit leaves after the reserve, since a streaming client holds
 * two descriptors (its socket and the upstream one). 256 → 96, 1,024 → 480, 65,536 → 32,736.
 */
export function connectionCap(configured: number, limit: number | undefined): number {
  if (configured > 0) return configured
  if (limit === undefined) return FALLBACK_CAP
  return Math.min(1_000_000, Math.max(16, Math.floor((limit - RESERVED_DESCRIPTORS) / 2)))
}

/** The per-address limit when MAX_CONNECTIONS_PER_ADDRESS is 0: a twentieth of the cap, at least 16 (a browser opens up to 6 per host; offices share an address). */
export function perAddressCap(configured: number, cap: number): number {
  if (configured > 0) return configured
  return Math.max(16, Math.ceil(cap / 20))
}

export interface PerAddressOptions {
  readonly max: number
  /** Addresses that are never counted: trusted proxies, whose connections carry many clients. */
  readonly exempt: (address: string) => boolean
  /** Told each time a connection is closed on accept, with the address's key. */
  readonly onRefused: () => void
}

/**
 * Issue 22: one address holding ~480 idle kept-alive connections filled the whole cap, and
 * everyone else, the liveness probe included, was refused. Each address (an IPv6 client by its
 * /64, as the per-IP limit counts it) may hold at most `max` connections at once; one more is
 * closed as soon as it is accepted, before a byte is read. Trusted proxies are exempt: the
 * addresses behind them are only known per request, and the proxy limits its own clients.
 */
export function limitConnectionsPerAddress(server: Server, options: PerAddressOptions): void {
  const open = new Map<string, number>()
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress
    if (address === undefined || options.exempt(address)) return
    const key = clientAddressKey(address)
    const count = open.get(key) ?? 0
    if (count >= options.max) {
      options.onRefused()
      socket.destroy()
      return
    }
    open.set(key, count + 1)
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1
      if (left <= 0) open.delete(key)
      else open.set(key, left)
    })
  })
}

/** Whether the server holds as many connections as its cap (the next would be closed on accept). */
export function connectionsFull(server: Server): Promise<boolean> {
  return new Promise((resolve) => {
    server.getConnections((error, count) => resolve(error === null && count >= server.maxConnections))
  })
}
