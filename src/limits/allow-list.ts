import proxyAddr from '@fastify/proxy-addr'
import type { LiveLimits } from '../config/live-limits.js'

/**
 * Is this address an internal caller (`limits.allowList`, IPs or CIDRs)? The list is compiled
 * once per reload, not per request.
 */
export function allowListMatcher(live: LiveLimits): (address: string | undefined) => boolean {
  let source: readonly string[] | undefined
  let trust: ((address: string, hop: number) => boolean) | undefined
  return (address) => {
    if (address === undefined) return false
    const list = live.current.allowList
    if (list !== source) {
      source = list
      trust = list.length === 0 ? undefined : proxyAddr.compile([...list])
    }
    return trust?.(address, 0) ?? false
  }
}
