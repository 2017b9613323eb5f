import { isIP } from 'node:net'

/** An IPv4/IPv6 address, optionally with a CIDR prefix length. */
export function isAddressOrCidr(value: string): boolean {
  const [address, bits, extra] = value.split('/')
  if (extra !== undefined || address === undefined || isIP(address) === 0) return false
  if (bits === undefined) return true
  const n = Number(bits)
  return /^\d+$/.test(bits) && n >= 0 && n <= (isIP(address) === 4 ? 32 : 128)
}
