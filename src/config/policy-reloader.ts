import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Logger } from 'pino'
import type { LiveLimits } from './live-limits.js'
import type { LiveAgents } from './live-agents.js'
import type { AgentsContext } from './agents.js'
import { reloadPolicy } from './reload.js'

/** Which policy a replica runs: what ops compare across the fleet (/readyz, gateway_policy_info). */
export interface PolicyVersion {
  /** The first 12 hex digits of the policy file's SHA-256 (`none` without a file). */
  readonly hash: string
  readonly loadedAt: Date
}

export interface PolicyReloaderOptions {
  readonly configFile: string | undefined
  readonly live: LiveLimits
  /** The per-agent settings in force (`agents:`), reloaded with the limits in one step; absent: limits only. */
  readonly agents?: LiveAgents
  /** ALLOWED_AGENT_IDS and AGENT_TENANT_ISOLATION (not reloaded), which an `agents:` section is checked against. */
  readonly agentsContext?: AgentsContext
  readonly logger: Logger
  /** Counts each attempt (applied or rejected) for gateway_reloads_total. */
  readonly onReload: (outcome: 'applied' | 'rejected') => void
  /** Injectable clock, for tests. */
  readonly now?: () => Date
}

/** The content hash of a policy file, or undefined when it cannot be read right now. */
export function policyHash(path: string | undefined): string | undefined {
  if (path === undefined) return 'none'
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 12)
  } catch {
    return undefined
  }
}

/**
 * Applies the policy file's limits and per-agent settings while the gateway runs, from SIGHUP and from a watch, one
 * way for both. The watch polls the file's content (a hash every POLICY_RELOAD_INTERVAL_SECONDS)
 * instead of relying on file-system events: a Kubernetes ConfigMap volume changes by swapping
 * the `..data` symlink atomically, which an inotify watch on the file itself never sees (it
 * follows the old, deleted target), and polling a small file costs nothing measurable. A valid
 * change is applied to the next request; an invalid one is logged with every problem, once, and
 * what is in force stays (as with SIGHUP).
 */
export class PolicyReloader {
  readonly #options: PolicyReloaderOptions
  #version: PolicyVersion
  /** The last content seen, applied or rejected, so an invalid file is reported once, not every poll. */
  #seen: string | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(options: PolicyReloaderOptions, initialHash: string | undefined = policyHash(options.configFile)) {
    this.#options = options
    this.#seen = initialHash
    this.#version = { hash: initialHash ?? 'unreadable', loadedAt: this.#now() }
  }

  get version(): PolicyVersion {
    return this.#version
  }

  /** SIGHUP: re-read now, whatever the content. */
  reload(trigger: 'signal' | 'watch' = 'signal'): void {
    const { configFile, live, agents, logger, onReload } = this.#options
    const hash = policyHash(configFile)
    this.#seen = hash
    // One step for both sections: a file whose agents are wrong does not half-apply its limits.
    const policy = reloadPolicy(
      configFile,
      agents === undefined ? undefined : (this.#options.agentsContext ?? { allowedAgentIds: [], agentTenantIsolation: false })
    )
    if ('problems' in policy) {
      onReload('rejected')
      logger.error(
        { problems: policy.problems, limits: live.current, agents: agents?.current, policyHash: this.#version.hash, trigger },
        'reload rejected: the limits in force are unchanged'
      )
      return
    }
    live.update(policy.limits)
    agents?.update(policy.agents)
    this.#version = { hash: hash ?? 'unreadable', loadedAt: this.#now() }
    onReload('applied')
    logger.info({ limits: live.current, agents: agents?.current, configFile, policyHash: this.#version.hash, trigger }, 'limits reloaded')
  }

  /** Polls the file every `intervalMs` and reloads when its content changed; 0: SIGHUP only. */
  watch(intervalMs: number): void {
    if (intervalMs <= 0 || this.#options.configFile === undefined || this.#timer !== undefined) return
    this.#timer = setInterval(() => this.check(), intervalMs)
    this.#timer.unref()
  }

  /** One poll: reload when the file's content is not what was last seen. */
  check(): void {
    const hash = policyHash(this.#options.configFile)
    // Unreadable for a moment (the swap itself, an editor's save): judged at the next poll.
    if (hash !== undefined && hash !== this.#seen) this.reload('watch')
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date()
  }
}
