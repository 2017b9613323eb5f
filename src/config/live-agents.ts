import { DEFAULT_AGENT_SETTINGS } from './agents.js'
import type { AgentSettings, AgentsConfig } from './agents.js'

/**
 * The per-agent settings in force (the policy file's `agents:` section). Read on every request
 * (never copied), replaced whole on a reload together with the limits, so a change applies to
 * the next request without a restart.
 */
export class LiveAgents {
  #current: AgentsConfig
  readonly #defaultOrigin: string | undefined

  /** `defaultOrigin`: UPSTREAM_ORIGIN, the Origin sent for an agent without one of its own. */
  constructor(initial: AgentsConfig, defaultOrigin: string | undefined) {
    this.#current = initial
    this.#defaultOrigin = defaultOrigin
  }

  get current(): AgentsConfig {
    return this.#current
  }

  settingsFor(agentId: string): AgentSettings {
    return Object.hasOwn(this.#current, agentId) ? this.#current[agentId]! : DEFAULT_AGENT_SETTINGS
  }

  /** The `Origin` Agent Studio gets for a call about this agent (none named: the deployment's). */
  upstreamOriginFor(agentId: string | undefined): string | undefined {
    return (agentId === undefined ? undefined : this.settingsFor(agentId).upstreamOrigin) ?? this.#defaultOrigin
  }

  update(next: AgentsConfig): void {
    this.#current = next
  }
}
