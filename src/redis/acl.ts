import { SCRIPT_COMMANDS } from './scripts.js'

/**
 * The least Redis ACL the gateway's user needs (issue 21), in `ACL SETUSER` syntax, for
 * docs/operations.md and doctor. Keys: the namespace's hash tag only (keys.ts). Commands:
 * - `evalsha`, `eval`: the limits scripts (EVAL when Redis lacks a script: after a restart or a
 *   failover). Redis checks every command a script runs, so the scripts' own commands too;
 * - `info`: ioredis's ready check and the `auto` mode's `INFO cluster`;
 * - `cluster|slots`, `cluster|info`: a Redis Cluster's slot map and ioredis's ready check there.
 * No pub/sub channel, no other key, no admin command. Sentinels have their own users.
 */
export function gatewayAclRules(keyPattern: string): string {
  const commands = ['eval', 'evalsha', 'info', 'cluster|slots', 'cluster|info', ...SCRIPT_COMMANDS]
  return `on resetkeys ~${keyPattern}* resetchannels -@all ${commands.map((command) => `+${command}`).join(' ')}`
}
