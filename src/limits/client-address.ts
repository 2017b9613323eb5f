import { isIPv6 } from 'node:net'

/**
 * The key the per-IP limit counts under. An IPv6 client gets a whole /64 from its provider
 * (RFC 6177; SLAAC addresses are chosen freely inside one /64), so counting single IPv6
 * addresses would give one client 2^64 budgets: IPv6 addresses count by their /64 prefix,
 * written in full (`2001:db8:0:7::/64`). IPv4-mapped IPv6 (`::ffff:203.0.113.7`, what a
 * dual-stack socket reports) counts as the IPv4 address. Anything else counts as it is.
 */
export function clientAddressKey(address: string): string {
  if (!address.includes(':') || !isIPv6(address)) return address
  const groups = expand(address.toLowerCase().split('%')[0]!)
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`
}

/** The eight 16-bit groups of a valid IPv6 address (node:net validated it). */
function expand(address: string): number[] {
  let text = address
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)))
  const left = parse(head)
  if (tail === undefined) return left
  const right = parse(tail)
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right]
}
