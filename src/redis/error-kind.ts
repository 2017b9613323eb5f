import { RedisTimeout } from './answer-timeout.js'
import { commandAtScriptLine } from './scripts.js'

/**
 * Redis errors come in two kinds, handled differently (issue 21):
 *
 * - **connection**: Redis could not be asked or did not answer (closed socket, timeout, a cluster
 *   resharding or failing over: CLUSTERDOWN, TRYAGAIN, a demoted master: READONLY, a master still
 *   loading: LOADING). The failure policy (`limits.onRedisError`) applies until it answers again.
 * - **script**: Redis answered, and refused: CROSSSLOT, WRONGTYPE, NOPERM (ACL), NOSCRIPT (EVAL
 *   denied), MOVED to a standalone client (it is a cluster). Nothing will change by waiting: it is
 *   a misconfiguration, so it is an error log, a metric and a failed readiness, never a quiet
 *   fail-open; at start the gateway refuses to run.
 */
export type RedisErrorKind = 'connection' | 'script'

/** An error Redis raised inside the admission script for one request of a batch (scripts.ts), classified like any reply. */
export class RequestReplyError extends Error {
  override readonly name = 'ReplyError'
}

/** Reply codes that mean "Redis is (momentarily) unavailable", not "Redis refused this script". */
const UNAVAILABLE_CODES = new Set(['CLUSTERDOWN', 'TRYAGAIN', 'LOADING', 'READONLY', 'MASTERDOWN', 'BUSY', 'NOREPLICAS', 'UNBLOCKED'])

/** The codes the script-error metric is labelled with (bounded); anything else is `other`. */
export const SCRIPT_ERROR_CODES = ['CROSSSLOT', 'WRONGTYPE', 'NOPERM', 'NOSCRIPT', 'MOVED', 'ASK', 'NOAUTH', 'WRONGPASS', 'ERR', 'other'] as const
export type ScriptErrorCode = (typeof SCRIPT_ERROR_CODES)[number]

/**
 * The first word of a Redis error reply (`WRONGTYPE Operation against…`), if the error is a reply.
 * An ACL denial inside a script is an `ERR` in Redis 7.0 ("The user executing the script can't run
 * this command…"): it is a NOPERM all the same.
 */
export function replyCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || error.name !== 'ReplyError') return undefined
  if (/^ERR The user executing the script can't/.test(error.message)) return 'NOPERM'
  return /^([A-Z]+)\b/.exec(error.message)?.[1]
}

export function redisErrorKind(error: unknown): RedisErrorKind {
  if (error instanceof RedisTimeout) return 'connection'
  const code = replyCode(error)
  if (code === undefined) return 'connection' // ioredis's own: closed, not writeable, retries exhausted, cluster not ready
  return UNAVAILABLE_CODES.has(code) ? 'connection' : 'script'
}

export function scriptErrorCode(error: unknown): ScriptErrorCode {
  const code = replyCode(error)
  return (SCRIPT_ERROR_CODES as readonly string[]).includes(code ?? '') ? (code as ScriptErrorCode) : 'other'
}

/** What to do about a script error, for the log line, doctor and the start-up refusal. */
export function scriptErrorHint(error: unknown): string {
  switch (replyCode(error)) {
    case 'NOPERM': {
      const message = (error as Error).message
      const command = /\(command ([A-Z]+)\)$/.exec(message)?.[1]?.toLowerCase() ?? commandAtScriptLine(message)
      return `the Redis user lacks a permission the gateway needs${command === undefined ? '' : ` (the script's ${command})`}: grant the ACL in docs/operations.md (Redis Cluster, Sentinel, TLS and ACL users)`
    }
    case 'NOAUTH':
    case 'WRONGPASS':
      return 'check REDIS_USERNAME/REDIS_PASSWORD (or the credentials in REDIS_URL)'
    case 'MOVED':
    case 'ASK':
      return 'this Redis is a cluster node: set REDIS_MODE=cluster (or auto)'
    case 'CROSSSLOT':
      return 'keys of one script hash to different slots: a gateway from before issue 21 (keys without their {namespace} hash tag) is talking to a cluster'
    case 'WRONGTYPE':
      return "a gateway key holds a value of another type: something else writes into the gateway's namespace (REDIS_NAMESPACE); delete that key"
    case 'NOSCRIPT':
      return 'Redis has not got the script and refused to load it: the user needs +eval as well as +evalsha'
    default:
      return 'Redis refused the limits script'
  }
}
