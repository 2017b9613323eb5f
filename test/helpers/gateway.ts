import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { Agent } from 'undici'
import { buildApp } from '../../src/app.js'
import type { AppDependencies } from '../../src/app.js'
import { loadConfig } from '../../src/config/load-config.js'
import type { GatewayConfig } from '../../src/config/types.js'
import { createLogger } from '../../src/logging/logger.js'
import type { StandIn, StandInOptions } from '../../standin/src/standin.js'
import { startStandIn } from '../../standin/test/standin-client.js'
import { gatewayEnv } from './fixtures.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

/** Collects the gateway's pino output, parsed, so tests can assert on log lines. */
export class LogCapture extends Writable {
  readonly raw: string[] = []
  override _write(chunk: Buffer, _encoding: string, callback: () => void) {
    this.raw.push(chunk.toString())
    callback()
  }
  get lines(): Array<Record<string, unknown>> {
    return this.raw
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  }
  /** The per-request summary lines. */
  get requests(): Array<Record<string, unknown>> {
    return this.lines.filter((line) => line.msg === 'request')
  }
  text(): string {
    return this.raw.join('')
  }
  /** Forgets what was logged so far (a shared gateway between tests). */
  clear(): void {
    this.raw.length = 0
  }
}

// A stand-in on a free port, closed with the test: the stand-in's own test helper, whose keys TEST_KEYS shares.
export { startStandIn }

export interface RunningGateway {
  readonly app: FastifyInstance
  readonly config: GatewayConfig
  readonly url: string
  readonly logs: LogCapture
}

export interface GatewayOptions {
  readonly env?: Record<string, string | undefined>
  readonly deps?: AppDependencies
  /** Skip listening (for app.inject tests). */
  readonly listen?: boolean
}

/**
 * Load shedding off: on a busy machine (2 cores shared by parallel suites) a `503 overloaded`
 * could otherwise stand in for the answer a test is about.
 */
export const NO_SHEDDING = { MAX_EVENT_LOOP_DELAY_MS: '0' } as const

/** Builds the real app exactly as server.ts does, from environment variables, on a random port. */
export async function startGateway(t: Teardown, agentStudioUrl: URL, options: GatewayOptions = {}): Promise<RunningGateway> {
  const { config } = loadConfig(gatewayEnv(agentStudioUrl, options.env), { defaultConfigFile: undefined })
  const logs = new LogCapture()
  const app = await buildApp(config, { logger: createLogger({ level: config.log.level, pretty: false }, logs), ...options.deps })
  t.teardown(() => app.close())
  let url = ''
  if (options.listen !== false) url = await app.listen({ host: '127.0.0.1', port: 0 })
  else await app.ready()
  return { app, config, url, logs }
}

export interface SharedGateway {
  readonly standIn: StandIn
  readonly url: URL
  readonly gateway: RunningGateway
}

/**
 * Gateways built with the default stand-in, by configuration (environment and listen), for the
 * whole test process: every file of a process (a folder, scripts/build-tests.mjs) that asks for
 * the same configuration gets the same stand-in and gateway. Closed when the process's root test
 * ends (`root` is tap's root object, the same for every file of the process).
 */
const perProcess = new Map<string, Promise<SharedGateway>>()

/**
 * One stand-in and one gateway per configuration: building them costs far more than the requests
 * a test sends. `root` is the file's top-level tap object, so both close when the process's tests
 * end. With the default stand-in (no `standIn` options), files of one process that use the same
 * configuration share them; with stand-in options of its own, a file's gateways are its own. Each
 * call hands back a clean slate: no recorded upstream requests, no log lines, no fault, no stream
 * hook. State a gateway keeps (limits, caches, the stand-in's stored conversations) does carry
 * over, between tests and between files: give each test its own user id, and build a private
 * gateway (startGateway) for tests about that state.
 */
export function sharedGateways(root: Teardown, options: { readonly standIn?: Partial<StandInOptions>; readonly listen?: boolean } = {}) {
  const built = options.standIn === undefined ? perProcess : new Map<string, Promise<SharedGateway>>()
  return async (env: Record<string, string | undefined> = {}): Promise<SharedGateway> => {
    // entries keep `undefined` (a variable unset on purpose); the order of keys matters, as written.
    const key = JSON.stringify([options.listen ?? false, Object.entries(env)])
    let entry = built.get(key)
    if (entry === undefined) {
      entry = (async () => {
        const { standIn, url } = await startStandIn(root, options.standIn)
        return { standIn, url, gateway: await startGateway(root, url, { env, listen: options.listen ?? false }) }
      })()
      built.set(key, entry)
    }
    const shared = await entry
    shared.standIn.received.length = 0
    shared.standIn.setFault(null)
    shared.standIn.setBeforeEvent(null)
    shared.gateway.logs.clear()
    return shared
  }
}

/** A client pool per test, so no connection outlives it. */
export function testClient(t: Teardown): Agent {
  const agent = new Agent({ connections: 64 })
  t.teardown(() => agent.close())
  return agent
}
