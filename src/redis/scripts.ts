import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'

/**
 * The gateway's Lua scripts, as typed commands of the connection. Each script takes any number
 * of keys (ioredis then expects the key count as the first argument): one call carries every
 * request of an event-loop turn.
 */
export interface LimitsCommands {
  /** KEYS: global lease set, budget, hold-off, then 9 per request; ARGV: 17 per request. Returns 9 values per request: numbers, or -1 and Redis's error message. */
  asgAdmit(keyCount: number, ...keysThenArgs: Array<string | number>): Promise<Array<number | string>>
  /** KEYS: counters; ARGV: their windows (ms). Returns current and ttl (ms) per counter. */
  asgCount(keyCount: number, ...keysThenArgs: Array<string | number>): Promise<number[]>
  /** KEYS: (user set, global set) pairs; ARGV: one lease id per pair. */
  asgRelease(keyCount: number, ...keysThenArgs: Array<string | number>): Promise<number>
  /** KEYS: (user set, global set) pairs; ARGV: lease ms, then one lease id per pair. */
  asgRenew(keyCount: number, ...keysThenArgs: Array<string | number>): Promise<number>
  /** KEYS: hold-off; ARGV: ms. Lengthens the hold-off, never shortens it. */
  asgHoldOff(key: string, ms: number): Promise<number>
  /** KEYS: usage hashes, then the two ranking buckets; ARGV: hash count, then field/increment pairs count, pairs, TTLs, user, agent, charged (src/usage/). */
  asgTokensRecord(keyCount: number, ...keysThenArgs: Array<string | number>): Promise<number>
  /** KEYS: usage hashes. Returns each hash's HGETALL. */
  asgTokensRead(keyCount: number, ...keys: string[]): Promise<string[][]>
  /** KEYS: a scratch key, then ranking buckets; ARGV: how many. Returns id, tokens pairs, heaviest first. */
  asgTokensTop(keyCount: number, ...keysThenArgs: Array<string | number>): Promise<string[]>
  /** KEYS: a pending approval; ARGV: its record (JSON), ms. */
  asgApprovalIssue(pending: string, record: string, ms: number): Promise<number>
  /** KEYS: a pending approval, its used marker; ARGV: the marker's ms. The record, 'used', or null. */
  asgApprovalTake(pending: string, used: string, ms: number): Promise<string | null>
  /** KEYS: an erasure's lock, the running set; ARGV: user, owner, ms. 1: held by `owner` now. */
  asgErasureClaim(lock: string, running: string, userId: string, owner: string, ms: number): Promise<number>
  /** KEYS: an erasure's state; ARGV: JSON, ms. */
  asgErasureSave(state: string, json: string, ms: number): Promise<number>
  /** KEYS: an erasure's state. */
  asgErasureLoad(state: string): Promise<string | null>
  /** KEYS: an erasure's lock, the running set; ARGV: user, owner, 1 when it is over. */
  asgErasureFinish(lock: string, running: string, userId: string, owner: string, done: number): Promise<number>
  /** KEYS: the running set. */
  asgErasureRunning(running: string): Promise<string[]>
}

/** Admission (see src/limits/admission.ts for the order and why). Per request: code, user current/ttl, route current/ttl, retry ms, budget spent, the user's tokens this day and month; or -1 and Redis's error message. */
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
  local k, a = 3 + (i - 1) * 9, (i - 1) * 17
  local ipKey, userKey, routeKey, leaseKey, shareKey = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5]
  -- Issue 24: the usage hashes the token budgets read (src/usage/token-keys.ts); 0 turns one off.
  local userDayKey, userMonthKey, tenantDayKey, tenantMonthKey = KEYS[k + 6], KEYS[k + 7], KEYS[k + 8], KEYS[k + 9]
  local userDaily, userMonthly = tonumber(ARGV[a + 14]), tonumber(ARGV[a + 15])
  local tenantDaily, tenantMonthly = tonumber(ARGV[a + 16]), tonumber(ARGV[a + 17])
  local ipMax, userMax, userWindow = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local routeMax, routeWindow, leaseId = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]), ARGV[a + 6]
  local userCap, globalCap, leaseMs = tonumber(ARGV[a + 7]), tonumber(ARGV[a + 8]), tonumber(ARGV[a + 9])
  local budgetMax, budgetWindow = tonumber(ARGV[a + 10]), tonumber(ARGV[a + 11])
  -- ceiling: how far into the window this request's class may fill it (chat: budgetMax, history
  -- and background less, so they never starve chat); shareMax: the user's share (0: none).
  local ceiling, shareMax = tonumber(ARGV[a + 12]), tonumber(ARGV[a + 13])
  local code, uc, ut, rc, rt, retry, spent, tday, tmonth = 0, -1, 0, -1, 0, 0, -1, -1, -1
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
  -- Token budgets: read, never spent here (tokens are known after the answer); refused once spent >= budget.
  if code == 0 and (userDaily > 0 or userMonthly > 0 or tenantDaily > 0 or tenantMonthly > 0) then
    tday = tonumber(call('HGET', userDayKey, 'tokens') or '0')
    tmonth = tonumber(call('HGET', userMonthKey, 'tokens') or '0')
    if userDaily > 0 and tday >= userDaily then code = 9
    elseif userMonthly > 0 and tmonth >= userMonthly then code = 10
    elseif tenantDaily > 0 and tonumber(call('HGET', tenantDayKey, 'tokens') or '0') >= tenantDaily then code = 11
    elseif tenantMonthly > 0 and tonumber(call('HGET', tenantMonthKey, 'tokens') or '0') >= tenantMonthly then code = 12 end
  end
  if code == 0 and leaseId ~= '' then
    call('ZREMRANGEBYSCORE', leaseKey, '-inf', now())
    call('ZREMRANGEBYSCORE', globalLeases, '-inf', now())
    if userCap > 0 and call('ZCARD', leaseKey) >= userCap then code = 5
    elseif globalCap > 0 and call('ZCARD', globalLeases) >= globalCap then code = 6 end
  end
  -- The budget is checked before it is spent (a refused request spends nothing of it): first the
  -- user's share of the window, then the class's ceiling of the deployment's window.
  if code == 0 and budgetMax > 0 then
    if shareMax > 0 then
      local used = tonumber(call('GET', shareKey) or '0')
      if used >= shareMax then
        local ttl = call('PTTL', shareKey)
        code, retry = 8, (ttl > 0 and ttl or budgetWindow)
      end
    end
    if code == 0 then
      local used = tonumber(call('GET', budgetKey) or '0')
      if used >= ceiling then
        local ttl = call('PTTL', budgetKey)
        code, retry, spent = 7, (ttl > 0 and ttl or budgetWindow), used
      else
        spent = count(budgetKey, budgetWindow)
        if shareMax > 0 then count(shareKey, budgetWindow) end
      end
    end
  end
  if code == 0 and leaseId ~= '' then
    call('ZADD', leaseKey, now() + leaseMs, leaseId)
    call('ZADD', globalLeases, now() + leaseMs, leaseId)
    call('PEXPIRE', leaseKey, leaseMs * 2)
    call('PEXPIRE', globalLeases, leaseMs * 2)
  end
  return code, uc, ut, rc, rt, retry, spent, tday, tmonth
end
local out = {}
for i = 1, (#KEYS - 3) / 9 do
  local ok, code, uc, ut, rc, rt, retry, spent, tday, tmonth = pcall(admitOne, i)
  if not ok then
    local message = type(code) == 'table' and code.err or tostring(code)
    code, uc, ut, rc, rt, retry, spent, tday, tmonth = -1, message, 0, 0, 0, 0, 0, 0, 0
  end
  out[#out + 1] = code
  out[#out + 1] = uc
  out[#out + 1] = ut
  out[#out + 1] = rc
  out[#out + 1] = rt
  out[#out + 1] = retry
  out[#out + 1] = spent
  out[#out + 1] = tday
  out[#out + 1] = tmonth
end
return out
`

// Issue 24: one answer's tokens, added to its user's (and tenant's) day and month hashes and to
// the hour's rankings. ARGV: hash count n, pair count p, p field/increment pairs, n TTLs (ms), the
// user id, the agent id, the tokens charged, the rankings' TTL. PEXPIRE on every write keeps a TTL
// on every key even if one was lost (a failover between HINCRBY and PEXPIRE).
// Many answers' tokens at once, already summed per hash and per ranking member (token-store.ts):
// ARGV = number of hashes, then per hash its TTL, its field count and field/increment pairs; then
// the number of rankings, and per ranking its TTL, its member count and member/increment pairs.
// KEYS = the hashes, then the rankings, in the same order.
const TOKENS_RECORD = `
local a = 1
local hashes = tonumber(ARGV[a]); a = a + 1
for h = 1, hashes do
  local ttl, fields = ARGV[a], tonumber(ARGV[a + 1]); a = a + 2
  for j = 1, fields do
    redis.call('HINCRBY', KEYS[h], ARGV[a], ARGV[a + 1]); a = a + 2
  end
  redis.call('PEXPIRE', KEYS[h], ttl)
end
local rankings = tonumber(ARGV[a]); a = a + 1
for z = 1, rankings do
  local ttl, members = ARGV[a], tonumber(ARGV[a + 1]); a = a + 2
  for j = 1, members do
    redis.call('ZINCRBY', KEYS[hashes + z], ARGV[a + 1], ARGV[a]); a = a + 2
  end
  redis.call('PEXPIRE', KEYS[hashes + z], ttl)
end
return 0
`

const TOKENS_READ = `
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGETALL', key) end
return out
`

// The heaviest over a window: the hour buckets summed into a scratch key (ZUNIONSTORE runs in C),
// the top read, the scratch key deleted, all in one script so no scratch key outlives it.
const TOKENS_TOP = `
local scratch = KEYS[1]
redis.call('ZUNIONSTORE', scratch, #KEYS - 1, unpack(KEYS, 2))
local top = redis.call('ZREVRANGE', scratch, 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
redis.call('DEL', scratch)
return top
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

// Tool approval bindings (src/approvals/): issued when the stream asks, taken once. Taking
// marks the call used (for a day), so a replay is told apart from a forgery.
const APPROVAL_ISSUE = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 0
`
const APPROVAL_TAKE = `
local record = redis.call('GET', KEYS[1])
if record then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
  return record
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'used' end
return false
`

// Erasures (src/erasure/): one at a time per user, taken over when their owner is gone.
const ERASURE_CLAIM = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
`
const ERASURE_SAVE = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 0
`
const ERASURE_LOAD = `
return redis.call('GET', KEYS[1])
`
const ERASURE_FINISH = `
if redis.call('GET', KEYS[1]) == ARGV[2] then redis.call('DEL', KEYS[1]) end
if ARGV[3] == '1' then redis.call('SREM', KEYS[2], ARGV[1]) end
return 0
`
const ERASURE_RUNNING = `
return redis.call('SMEMBERS', KEYS[1])
`

/** Each command's script, keyed like the interface: a command without a script (or the reverse) does not compile. */
const SCRIPTS: { readonly [Name in keyof LimitsCommands]: { readonly lua: string; readonly numberOfKeys?: number } } = {
  asgAdmit: { lua: ADMIT },
  asgCount: { lua: COUNT },
  asgRelease: { lua: RELEASE },
  asgRenew: { lua: RENEW },
  asgHoldOff: { numberOfKeys: 1, lua: HOLD_OFF },
  asgTokensRecord: { lua: TOKENS_RECORD },
  asgApprovalIssue: { numberOfKeys: 1, lua: APPROVAL_ISSUE },
  asgApprovalTake: { numberOfKeys: 2, lua: APPROVAL_TAKE },
  asgTokensRead: { lua: TOKENS_READ },
  asgTokensTop: { lua: TOKENS_TOP },
  asgErasureClaim: { numberOfKeys: 2, lua: ERASURE_CLAIM },
  asgErasureSave: { numberOfKeys: 1, lua: ERASURE_SAVE },
  asgErasureLoad: { numberOfKeys: 1, lua: ERASURE_LOAD },
  asgErasureFinish: { numberOfKeys: 2, lua: ERASURE_FINISH },
  asgErasureRunning: { numberOfKeys: 1, lua: ERASURE_RUNNING }
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
export const SCRIPT_COMMANDS = [
  ...new Set(Object.values(SCRIPTS).flatMap(({ lua }) => [...lua.matchAll(/\bcall\('([A-Z]+)'/g)].map((m) => m[1]!.toLowerCase())))
].sort()

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
