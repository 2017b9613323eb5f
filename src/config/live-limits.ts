import type { LimitsConfig } from './limits.js'

/**
 * The limits in force. Read on every request (never copied), replaced whole on a reload, so a
 * change applies to the next request without a restart and without touching any counter.
 */
export class LiveLimits {
  #current: LimitsConfig

  constructor(initial: LimitsConfig) {
    this.#current = initial
  }

  get current(): LimitsConfig {
    return this.#current
  }

  update(next: LimitsConfig): void {
    this.#current = next
  }
}
