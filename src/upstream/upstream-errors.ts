import { holdOffSeconds } from './hold-off.js'
import { readBoundedText } from '../http/read-bounded.js'
import type { Readable } from 'node:stream'
import { UpstreamAuthFailed, UpstreamError, UpstreamNotFound, UpstreamRateLimited, UpstreamRejected, UpstreamValidationFailed } from '../errors.js'
import type { GatewayError } from '../errors.js'

/**
 * What an Agent Studio error status becomes at the gateway, on every route (streamed calls and
 * the gateway's own side calls alike). Issue 10: upstream 401/403 means the gateway's Algolia
 * credentials were refused (wrong key, rotated authentication key, an agent-scoped key that does
 * not cover the agent), never the user's session, so it is a 502 a frontend does not mistake
 * for a sign-out; upstream 429 is the application's Agent Studio budget, relayed as such with
 * `retry-after`. Issue 11: Agent Studio's 4xx bodies are never relayed; only our own
 * `{ error, message, requestId }` goes out, plus a 422's validation `detail` (loc/msg/type).
 */

export interface UpstreamStatusHooks {
  /** Every upstream 401/403 (metrics; the request's log line says it at error level). */
  onAuthFailed?(statusCode: number): void
  /** Every upstream 429, with the bounded hold-off it asked for (the limits' shared hold-off hooks in here). */
  onRateLimited?(holdOffSeconds: number): void
}

/** Most of an error body the gateway reads; the rest is discarded unread. */
export const ERROR_BODY_READ_LIMIT = 64 * 1024

/**
 * Status codes decided before any route-specific rule (5xx, credentials, budget). Each error
 * keeps upstream's status for the log line; `cause` says what was answered (side calls).
 */
export function credentialOrBudgetError(
  statusCode: number,
  headers: Record<string, string | string[] | undefined>,
  hooks: UpstreamStatusHooks,
  cause?: Error
): GatewayError | undefined {
  if (statusCode >= 500) return new UpstreamError({ upstreamStatus: statusCode, cause })
  if (statusCode === 401 || statusCode === 403) {
    hooks.onAuthFailed?.(statusCode)
    return new UpstreamAuthFailed(String(statusCode), { upstreamStatus: statusCode, cause })
  }
  if (statusCode === 429) {
    const seconds = holdOffSeconds(headers['retry-after'])
    hooks.onRateLimited?.(seconds)
    return new UpstreamRateLimited(String(seconds), { upstreamStatus: statusCode, retryAfterSeconds: seconds, cause })
  }
  return undefined
}

/** Any other 4xx: our own error with upstream's status, and a 422's field list. */
export function rejectedError(statusCode: number, bodyText: string): GatewayError {
  if (statusCode === 404) return new UpstreamNotFound({ upstreamStatus: statusCode })
  if (statusCode === 422) {
    const detail = validationDetail(bodyText)
    return new UpstreamValidationFailed({ upstreamStatus: statusCode, publicFields: detail === undefined ? undefined : { detail } })
  }
  return new UpstreamRejected(String(statusCode), { upstreamStatus: statusCode, statusCode })
}

export interface ValidationItem {
  readonly loc: Array<string | number>
  readonly msg: string
  readonly type: string
}

/**
 * FastAPI's `{ detail: [{ loc, msg, type, input?, ctx? }] }`, reduced to what helps a frontend
 * developer: `input` and `ctx` echo request data and are dropped; sizes are bounded.
 */
export function validationDetail(bodyText: string): ValidationItem[] | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(bodyText)
  } catch {
    return undefined
  }
  const detail = (parsed as { detail?: unknown } | null)?.detail
  if (!Array.isArray(detail)) return undefined
  const items: ValidationItem[] = []
  for (const entry of detail.slice(0, 20)) {
    const { loc, msg, type } = (entry ?? {}) as { loc?: unknown; msg?: unknown; type?: unknown }
    if (!Array.isArray(loc) || typeof msg !== 'string' || typeof type !== 'string') continue
    items.push({
      loc: loc
        .slice(0, 10)
        .filter((part): part is string | number => typeof part === 'string' || Number.isInteger(part))
        .map((part) => (typeof part === 'string' ? part.slice(0, 100) : part)),
      msg: msg.slice(0, 300),
      type: type.slice(0, 100)
    })
  }
  return items.length === 0 ? undefined : items
}

/** Reads at most `limit` bytes of an error body as text and discards the rest. */
export async function readBounded(body: Readable, limit = ERROR_BODY_READ_LIMIT): Promise<string> {
  // A broken or oversized error body tells nothing more than its status (a cut 422 body would
  // not parse anyway), so either reads as empty.
  return readBoundedText(body, limit).catch(() => '')
}

/**
 * The error an upstream answer becomes, or undefined when it is relayed as it is (2xx/3xx).
 * `refuse` is the route's own rule (e.g. 404 → conversation_not_found, no oracle); it runs after
 * the credential and budget statuses, which mean the same on every route.
 */
export async function upstreamRefusal(
  response: { statusCode: number; headers: Record<string, string | string[] | undefined>; body: Readable & { dump(): Promise<void> } },
  refuse: ((statusCode: number) => Error | undefined) | undefined,
  hooks: UpstreamStatusHooks
): Promise<Error | undefined> {
  const { statusCode, headers, body } = response
  if (statusCode < 400) return undefined
  const decided = credentialOrBudgetError(statusCode, headers, hooks) ?? refuse?.(statusCode)
  if (decided !== undefined) {
    await body.dump().catch(() => undefined)
    return decided
  }
  return rejectedError(statusCode, await readBounded(body))
}

/**
 * An upstream 429 or 401/403 thrown by a side call: no later call of the same request can
 * succeed, so a multi-call operation (erasure) stops and answers with it instead of a 502.
 */
export function isCredentialOrBudgetError(error: unknown): error is GatewayError {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'UPSTREAM_RATE_LIMITED' || code === 'UPSTREAM_AUTH_FAILED'
}
