/**
 * Every key the gateway keeps in Redis starts with `{<namespace>}`: a Redis Cluster hash tag
 * (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags). A key's
 * slot is then the CRC16 of the namespace alone, so all of a deployment's keys (every user's and
 * route's counters, every per-user lease set, the IP failure counters, the global lease set, the
 * upstream budget and the hold-off) live in ONE slot, on one shard.
 *
 * Why one slot: one admission script checks a user's counters, the user's and the deployment's
 * lease sets and the deployment's budget atomically, and it is batched with every other request
 * of the same event-loop turn (other users). Redis Cluster runs a script only when all its keys
 * hash to one slot (CROSSSLOT otherwise), so anything that must be atomic together must share a
 * slot; since every request touches the deployment-wide keys, that is everything. The cost: the
 * gateway's load (one script per event-loop turn per replica, plus renewals) lands on the shard
 * that owns this slot, not spread over the cluster; gateways with different namespaces land on
 * different slots. The namespace can hold no brace (its pattern forbids them), so the tag always
 * ends where the namespace does, whatever a user id contains.
 */
export function keyPrefix(namespace: string): string {
  return `{${namespace}}`
}

/** The Redis Cluster slot of a key (CRC16/XMODEM of its hash tag, mod 16384), as Redis computes it. */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key)
  const open = bytes.indexOf(0x7b) // {
  const close = open === -1 ? -1 : bytes.indexOf(0x7d, open + 1) // }
  const hashed = open !== -1 && close > open + 1 ? bytes.subarray(open + 1, close) : bytes
  let crc = 0
  for (const byte of hashed) {
    crc ^= byte << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc % 16384
}

/** One example of each kind of key the scripts receive, for the slot layout check (diagnose.ts). */
export function keyKinds(prefix: string): Record<string, string> {
  return {
    'per-user counter': `${prefix}user:example-user`,
    'per-route counter': `${prefix}route:completions:example-user`,
    'per-IP failure counter': `${prefix}ip:192.0.2.1`,
    'per-user lease set': `${prefix}streams:user:example-user`,
    'global lease set': `${prefix}streams:global`,
    'upstream budget': `${prefix}upstream:budget`,
    'per-user budget share': `${prefix}upstream:share:example-user`,
    'upstream hold-off': `${prefix}upstream:hold-off`,
    'token usage (user, day)': `${prefix}tokens:user:example-user:d:2026-01-01`,
    'token usage (tenant, month)': `${prefix}tokens:tenant:example-tenant:m:2026-01`,
    'usage ranking (hour)': `${prefix}usage:top:users:2026-01-01T00`
  }
}
