import { randomUUID } from 'node:crypto'
import { once as onceEvent } from 'node:events'
import type { RedisConfig, RedisMode } from '../config/redis.js'
import { describeRedis } from '../config/redis.js'
import { gatewayAclRules } from './acl.js'
import { RedisTimeout } from './answer-timeout.js'
import { createRedisClient, detectMode, serverOf } from './client.js'
import { RequestReplyError, redisErrorKind, replyCode, scriptErrorHint } from './error-kind.js'
import { keyKinds, keyPrefix, keySlot } from './keys.js'
import type { ScriptedClient } from './scripts.js'

/**
 * What the gateway can know about its Redis before trusting it with the limits (issue 21): the
 * slot layout (every kind of key in one slot), and one real round trip of every script on scratch
 * keys of the namespace, which also proves the ACL: Redis checks each command a script runs, and
 * each key, against the user's permissions, so a missing `+zadd` or a key pattern that does not
 * cover the namespace fails here, naming the command, instead of failing every request later.
 */

export interface SlotLayout {
  /** The slot every key of this namespace hashes to. */
  readonly slot: number
  /** Kinds of key whose slot differs (empty: right by construction, as keys.ts intends). */
  readonly strays: readonly string[]
}

export function slotLayout(namespace: string): SlotLayout {
  const prefix = keyPrefix(namespace)
  const slot = keySlot(prefix)
  const strays = Object.entries(keyKinds(prefix))
    .filter(([, key]) => keySlot(key) !== slot)
    .map(([kind]) => kind)
  return { slot, strays }
}

/** Outcome of the scripted round trip. `script`: Redis answered and refused (see error-kind.ts). */
/** The admission script ran but did not admit a request every limit allows: the script Redis runs is not ours. */
class ScratchRefused extends Error {}

export type ProbeOutcome = { readonly outcome: 'ok'; readonly ms: number } | { readonly outcome: 'connection' | 'script'; readonly error: Error }

/**
 * Runs each limits script twice on keys of their own (`<prefix>probe:<uuid>:…`, so two replicas
 * probing at once never meet), every branch that runs a command taken: an admission that counts,
 * leases and spends a budget, a renewal, a release, a failure count and a hold-off. Twice, because
 * ioredis sends a script's first call on a connection as EVAL and the next ones as EVALSHA: both
 * must be allowed. The keys expire within two seconds; nothing the gateway counts is touched.
 */
export async function probeScripts(client: ScriptedClient, namespace: string, timeoutMs: number): Promise<ProbeOutcome> {
  const started = performance.now()
  const scratch = `${keyPrefix(namespace)}probe:${randomUUID()}:`
  const [globalLeases, budget, hold, ip, user, route, userLeases, share, failures, erasureLock, erasureState, erasures] = [
    'streams:global',
    'budget',
    'hold-off',
    'ip',
    'user',
    'route',
    'streams:user',
    'share',
    'failures',
    'erasure:lock',
    'erasure:state',
    'erasure:running'
  ].map((name) => scratch + name) as [string, string, string, string, string, string, string, string, string, string, string, string]
  const [tokensDay, tokensMonth, tenantDay, tenantMonth, topUsers, topAgents, topScratch] = [
    'tokens:d',
    'tokens:m',
    'tenant:d',
    'tenant:m',
    'top:users',
    'top:agents',
    'top:scratch'
  ].map((name) => scratch + name) as [string, string, string, string, string, string, string]
  const once = async () => {
    const lease = randomUUID()
    // Every token budget on (1e9 each), so the script reads every usage hash (issue 24).
    const answer = await client.asgAdmit(
      12,
      globalLeases,
      budget,
      hold,
      ip,
      user,
      route,
      userLeases,
      share,
      tokensDay,
      tokensMonth,
      tenantDay,
      tenantMonth,
      1,
      100,
      1000,
      100,
      1000,
      lease,
      100,
      100,
      1000,
      100,
      1000,
      100,
      100,
      1e9,
      1e9,
      1e9,
      1e9
    )
    if (answer[0] === -1) throw new RequestReplyError(String(answer[1]))
    if (answer[0] !== 0) throw new ScratchRefused(`the admission script refused a scratch request (outcome ${answer[0]})`)
    await client.asgRenew(2, userLeases, globalLeases, 1000, lease)
    await client.asgRelease(2, userLeases, globalLeases, lease)
    await client.asgCount(1, failures, 1000)
    // Its own key: a hold-off on the admission's would refuse the second round.
    await client.asgHoldOff(`${hold}:set`, 1)
    // The erasures' scripts too (src/erasure/), so the ACL check covers their commands.
    await client.asgErasureClaim(erasureLock, erasures, 'probe', lease, 1000)
    await client.asgErasureSave(erasureState, '{}', 1000)
    await client.asgErasureLoad(erasureState)
    await client.asgErasureRunning(erasures)
    await client.asgErasureFinish(erasureLock, erasures, 'probe', lease, 1)
    // The usage scripts (src/usage/): a record of 0 tokens, a read, a ranking.
    await client.asgTokensRecord(
      4,
      tokensDay,
      tokensMonth,
      topUsers,
      topAgents,
      2,
      1000,
      1,
      'tokens',
      0,
      1000,
      1,
      'tokens',
      0,
      2,
      1000,
      1,
      'probe',
      0,
      1000,
      1,
      'probe',
      0
    )
    await client.asgTokensRead(2, tokensDay, tokensMonth)
    await client.asgTokensTop(3, topScratch, topUsers, topAgents, 1)
    // The tool approval scripts (src/approvals/): a binding issued and taken.
    await client.asgApprovalIssue(`${scratch}approval`, '{}', 1000)
    await client.asgApprovalTake(`${scratch}approval`, `${scratch}approval:used`, 1000)
  }
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      once().then(once),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new RedisTimeout(timeoutMs, 0)), timeoutMs)
      })
    ])
    return { outcome: 'ok', ms: performance.now() - started }
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error))
    return { outcome: failure instanceof ScratchRefused ? 'script' : redisErrorKind(failure), error: failure }
  } finally {
    clearTimeout(timer)
  }
}

export interface DoctorCheck {
  readonly outcome: 'ok' | 'warn' | 'fail'
  readonly title: string
  readonly detail?: string
}

/**
 * doctor's Redis checks: the mode detected, the slot layout (and, on a cluster, which master owns
 * the slot), the scripted round trip (which is the ACL check), and the failure policy in force.
 */
export async function doctorRedisChecks(redis: RedisConfig, onRedisError: 'open' | 'closed'): Promise<DoctorCheck[]> {
  const connection = redis.connection
  if (connection === undefined) return [{ outcome: 'ok', title: 'no REDIS_URL: limits and stream caps are per replica (fine for one replica)' }]
  const checks: DoctorCheck[] = []
  const policy = `limits.onRedisError is ${onRedisError}: while Redis cannot be reached, requests are ${onRedisError === 'open' ? 'served without the shared checks' : 'refused with 503 redis_unavailable'}`
  const detection = detectMode(connection)
  let mode: RedisMode
  try {
    mode = await Promise.race([
      detection.mode,
      new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('no answer within 3 s')), 3000).unref())
    ])
  } catch (error) {
    detection.stop()
    const refused = replyCode(error) !== undefined
    return [
      {
        outcome: 'fail',
        title: refused ? 'Redis refused the mode check (INFO cluster)' : 'Redis is unreachable',
        detail: `${describeRedis(connection)}: ${(error as Error).message}: ${refused ? scriptErrorHint(error) : 'check REDIS_URL / REDIS_SENTINELS'} (limits would follow limits.onRedisError)`
      },
      { outcome: 'ok', title: policy }
    ]
  }
  const layout = slotLayout(redis.namespace)
  const client = createRedisClient(connection, mode)
  client.on('error', () => undefined)
  try {
    // Commands fail fast until the connection is ready (no offline queue): wait for it first.
    await Promise.race([onceEvent(client, 'ready'), new Promise((resolve) => setTimeout(resolve, 5000).unref())])
    const probe = await probeScripts(client, redis.namespace, 5000)
    const owner = serverOf(client, layout.slot)
    if (probe.outcome === 'connection') {
      checks.push({
        outcome: 'fail',
        title: `Redis is unreachable (${mode})`,
        detail: `${describeRedis(connection)}: ${probe.error.message}: check REDIS_URL / REDIS_SENTINELS and the network (limits would follow limits.onRedisError)`
      })
    } else {
      checks.push({ outcome: 'ok', title: `Redis answers in ${mode} mode (${describeRedis(connection)}, namespace ${redis.namespace})` })
      checks.push(
        layout.strays.length === 0
          ? {
              outcome: 'ok',
              title: `slot layout: every gateway key is in slot ${layout.slot} (hash tag ${keyPrefix(redis.namespace)})${mode === 'cluster' && owner !== undefined ? `, on master ${owner}` : ''}`
            }
          : { outcome: 'fail', title: "slot layout: some keys are outside the namespace's slot", detail: layout.strays.join(', ') }
      )
      checks.push(
        probe.outcome === 'ok'
          ? {
              outcome: 'ok',
              title: `limits scripts run (one round trip each, ${Math.round(probe.ms)} ms in all): the Redis user has every command and key it needs`
            }
          : {
              outcome: 'fail',
              title: `Redis refused the limits scripts: ${probe.error.message}`,
              detail: `${scriptErrorHint(probe.error)}\nthe gateway's user needs: ACL SETUSER <user> ${gatewayAclRules(keyPrefix(redis.namespace))}`
            }
      )
    }
  } finally {
    client.disconnect()
  }
  checks.push({ outcome: 'ok', title: policy })
  return checks
}
