import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'

/**
 * The gateway's Lua scripts, as typed commands of the connection. Each script takes any number
 * of keys (ioredis then expects the key count as the first argument): one call carries every
 * request of an event-loop turn.
 */
export interface LimitsCommands {
  /** KEYS: global lease set, budget, hold-off, then 4 per request; ARGV: 11 per request. Returns 7 values per request: numbers, or -1 and Redis's error message. */
  asgAdmit(keyCount: number, ...keysThenArgs: Array<string | number>): Promise<Array<number | string>>
  /** KEYS: counters; ARGV: their windows (ms). Returns current and ttl (ms) per counter. */
  asgCount(keyCount: number, ...keysThenArgs: Array<string | number>): Promise<number[]>
  /** KEYS: (user set, global set) pairs; ARGV: one lease id per pair. */
  asgRelease(keyCount: number, ...keysThenArgs: Array<string | number>): Promise<number>
  /** KEYS: (user set, global set) pairs; ARGV: lease ms, then one lease id per pair. */
  asgRenew(keyCount: number, ...keysThenArgs: Array<string | number>): Promise<number>
  /** KEYS: hold-off; ARGV: ms. Lengthens the hold-off, never shortens it. */
  asgHoldOff(key: string, ms: number): Promise<number>
}

/** Admission (see src/limits/admission.ts for the order and why). Per request: code, user current/ttl, route current/ttl, retry ms, budget spent; or -1 and Redis's error message. */
const ADMIT = `
local globalLeases, budgetKey, holdKey = KEYS[1], KEYS[2], KEYS[3]
-- A command Redis refuses (WRONGTYPE on one user's key, an ACL denial) fails only the request it
-- belongs to, named with its command, not the whole batch (issue 21). Redis does not roll a script
-- back: failing the batch and asking each request again would count the ones before it twice.
local function call(command, ...)
  local reply = redis.pcall(command, ...)
  if type(reply) == 'table' and reply.err ~= nil then error({ err = reply.err .. ' (command ' .. command .. ')' }) end
  return reply
end
local nowMs
local function now()
  if nowMs == nil then
    local t = call('TIME')
    nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return nowMs
end
local function count(key, window)
  local current = call('INCR', key)
  if current == 1 then
    call('PEXPIRE', key, window)
    return current, window
  end
  local ttl = call('PTTL', key)
  if ttl < 0 then
    call('PEXPIRE', key, window)
    ttl = window
  end
  return current, ttl
end
local function admitOne(i)
  local k, a = 3 + (i - 1) * 4, (i - 1) * 11
  local ipKey, userKey, routeKey, leaseKey = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  local ipMax, userMax, userWindow = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local routeMax, routeWindow, leaseId = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]), ARGV[a + 6]
  local userCap, globalCap, leaseMs = tonumber(ARGV[a + 7]), tonumber(ARGV[a + 8]), tonumber(ARGV[a + 9])
  local budgetMax, budgetWindow = tonumber(ARGV[a + 10]), tonumber(ARGV[a + 11])
  local code, uc, ut, rc, rt, retry, spent = 0, -1, 0, -1, 0, 0, -1
  if ipMax > 0 then
    local failures = tonumber(call('GET', ipKey) or '0')
    if failures >= ipMax then
      code, retry = 1, call('PTTL', ipKey)
    end
  end
  if code == 0 and budgetMax >= 0 then
    local hold = call('PTTL', holdKey)
    if hold > 0 then code, retry = 2, hold end
  end
  if code == 0 then
    if userMax > 0 then uc, ut = count(userKey, userWindow) end
    if routeMax > 0 then rc, rt = count(routeKey, routeWindow) end
    if routeMax > 0 and rc > routeMax then code, retry = 4, rt
    elseif userMax > 0 and uc > userMax then code, retry = 3, ut end
  end
  if code == 0 and leaseId ~= '' then
    call('ZREMRANGEBYSCORE', leaseKey, '-inf', now())
    call('ZREMRANGEBYSCORE', globalLeases, '-inf', now())
    if userCap > 0 and call('ZCARD', leaseKey) >= userCap then code = 5
    elseif globalCap > 0 and call('ZCARD', globalLeases) >= globalCap then code = 6 end
  end
  if code == 0 and budgetMax > 0 then
    local ttl
    spent, ttl = count(budgetKey, budgetWindow)
    if spent > budgetMax then code, retry = 7, ttl end
  end
  if code == 0 and leaseId ~= '' then
    call('ZADD', leaseKey, now() + leaseMs, leaseId)
    call('ZADD', globalLeases, now() + leaseMs, leaseId)
    call('PEXPIRE', leaseKey, leaseMs * 2)
    call('PEXPIRE', globalLeases, leaseMs * 2)
  end
  return code, uc, ut, rc, rt, retry, spent
end
local out = {}
for i = 1, (#KEYS - 3) / 4 do
  local ok, code, uc, ut, rc, rt, retry, spent = pcall(admitOne, i)
  if not ok then
    local message = type(code) == 'table' and code.err or tostring(code)
    code, uc, ut, rc, rt, retry, spent = -1, message, 0, 0, 0, 0, 0
  end
  out[#out + 1] = code
  out[#out + 1] = uc
  out[#out + 1] = ut
  out[#out + 1] = rc
  out[#out + 1] = rt
  out[#out + 1] = retry
  out[#out + 1] = spent
end
return out
`

/** Fixed-window counters (INCR, PEXPIRE on the first hit): the per-IP failure count. */
const COUNT = `
local out = {}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[i])
  local current = redis.call('INCR', key)
  local ttl
  if current == 1 then
    redis.call('PEXPIRE', key, window)
    ttl = window
  else
    ttl = redis.call('PTTL', key)
    if ttl < 0 then
      redis.call('PEXPIRE', key, window)
      ttl = window
    end
  end
  out[#out + 1] = current
  out[#out + 1] = ttl
end
return out
`

// ZREM is idempotent: a release retried after an answer that got lost does no harm.
const RELEASE = `
for i = 1, #KEYS / 2 do
  redis.call('ZREM', KEYS[2 * i - 1], ARGV[i])
  redis.call('ZREM', KEYS[2 * i], ARGV[i])
end
return 0
`

// No XX: a renewal also puts back a lease Redis lost (issue 21: a failover to a replica that had
// not yet received it, an outage longer than the lease), so the caps count every stream still open
// again within one renewal period. The price: a renewal that crosses its own release on the wire
// (sent before it, answered after) leaves a lease nobody renews, which expires within one lease.
const RENEW = `
local t = redis.call('TIME')
local leaseMs = tonumber(ARGV[1])
local expiry = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + leaseMs
for i = 1, #KEYS / 2 do
  redis.call('ZADD', KEYS[2 * i - 1], expiry, ARGV[i + 1])
  redis.call('ZADD', KEYS[2 * i], expiry, ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[2 * i - 1], leaseMs * 2)
  redis.call('PEXPIRE', KEYS[2 * i], leaseMs * 2)
end
return 0
`

const HOLD_OFF = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 0
`

/** Each command's script, keyed like the interface: a command without a script (or the reverse) does not compile. */
const SCRIPTS: { readonly [Name in keyof LimitsCommands]: { readonly lua: string; readonly numberOfKeys?: number } } = {
  asgAdmit: { lua: ADMIT },
  asgCount: { lua: COUNT },
  asgRelease: { lua: RELEASE },
  asgRenew: { lua: RENEW },
  asgHoldOff: { numberOfKeys: 1, lua: HOLD_OFF }
}

/** A connection (one Redis, a master found through Sentinel, or a Redis Cluster) with the gateway's scripts on it. */
export type ScriptedClient = (Redis | Cluster) & LimitsCommands

/**
 * Defines the scripts on a connection, once, when it is made (ioredis sends EVALSHA, and the
 * script itself with EVAL when Redis lacks it, e.g. after a failover to a replica that never ran
 * it). The methods are ioredis's own, set by defineCommand; a Cluster routes each call to the
 * master of its keys' slot (all one slot: keys.ts).
 */
export function withScripts<Client extends Redis | Cluster>(client: Client): Client & LimitsCommands {
  for (const [name, script] of Object.entries(SCRIPTS)) client.defineCommand(name, script)
  return client as Client & LimitsCommands
}

/** Every command the scripts run (redis.call), for the ACL the gateway's user needs (acl.ts). */
export const SCRIPT_COMMANDS = [...new Set(Object.values(SCRIPTS).flatMap(({ lua }) => [...lua.matchAll(/\bcall\('([A-Z]+)'/g)].map((m) => m[1]!.toLowerCase())))].sort()

const SCRIPT_BY_SHA = new Map(Object.values(SCRIPTS).map(({ lua }) => [createHash('sha1').update(lua).digest('hex'), lua]))

/**
 * The command a script error points at. Redis 7.0 reports an ACL denial inside a script as "ERR The
 * user executing the script can't run this command or subcommand script: <sha>, on
 * @user_script:<line>", without naming the command: the line of our own script does.
 */
export function commandAtScriptLine(message: string): string | undefined {
  const where = /script: ([0-9a-f]{40}), on @user_script:(\d+)/.exec(message)
  const line = where === null ? undefined : SCRIPT_BY_SHA.get(where[1]!)?.split('\n')[Number(where[2]) - 1]
  return line === undefined ? undefined : /redis\.call\('([A-Z]+)'/.exec(line)?.[1]?.toLowerCase()
}
