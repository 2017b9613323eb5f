import { createRequire } from 'node:module'
import { isIP } from 'node:net'
import proxyAddr from '@fastify/proxy-addr'
import type * as IpAddr from 'ipaddr.js'

// ipaddr.js (what @fastify/proxy-addr parses with) is CommonJS without named exports for ESM,
// and this project compiles without esModuleInterop: loaded the CommonJS way, typed by its own d.ts.
const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof IpAddr

/**
 * Why an address-list entry (TRUSTED_PROXIES, METRICS_ALLOW_FROM, limits.allowList) cannot be
 * used, or undefined when it can. Judged by the library that will match it at run time
 * (@fastify/proxy-addr), so what passes here can never crash the start or a request later:
 * `0.0.0.0/0` used to pass a hand-written check and then throw in proxy-addr (issue 19).
 */
export function addressEntryProblem(entry: string): string | undefined {
  const [address, bits] = entry.split('/')
  if (address === undefined || isIP(address) === 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits))) {
    return `"${entry}" is not an IP address or CIDR range (e.g. 10.0.0.0/8)`
  }
  if (bits !== undefined && Number(bits) === 0) {
    return `"${entry}" matches every address; list the addresses or ranges you mean`
  }
  // An IPv4-mapped range of /96 or wider (`::ffff:0.0.0.0/96`) matches every IPv4 client.
  if (
    bits !== undefined &&
    isIP(address) === 6 &&
    Number(bits) <= 96 &&
    ipaddr.parse(address).kind() === 'ipv6' &&
    (ipaddr.parse(address) as IpAddr.IPv6).isIPv4MappedAddress()
  ) {
    return `"${entry}" matches every IPv4 address; list the addresses or ranges you mean`
  }
  try {
    proxyAddr.compile([entry])
  } catch {
    return `"${entry}" is not an IP address or CIDR range (e.g. 10.0.0.0/8)`
  }
  return undefined
}

/** Loopback (127.0.0.0/8, ::1, and IPv4-mapped 127.x), by parsing the address: never by its first characters. */
export function isLoopbackAddress(address: string): boolean {
  // node:net's strict syntax first: ipaddr.js alone would also take `127.1` and octal forms.
  return isIP(address) !== 0 && ipaddr.process(address).range() === 'loopback'
}
