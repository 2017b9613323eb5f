/**
 * What a chat UI should show for an error from the gateway: one message, the gateway's own
 * `message`, with the action it implies. The AI SDK (`useChat`, ai 5 and later) puts the failed
 * response's body into `error.message` (InstantSearch's chat widget keeps the body's `message`
 * only: see ./gateway-fetch.ts); the gateway's body is `{ error, message, requestId }`, and a
 * stream that breaks after it started ends with an `error` event whose text is the message alone.
 * Switch on the stable `error` code, never on the wording.
 */
export type GatewayErrorAction = 'sign-in' | 'wait' | 'retry' | 'new-conversation' | 'contact-support'

export interface GatewayErrorView {
  readonly action: GatewayErrorAction
  /** The gateway's own `message` (or, with no JSON body, a sentence saying what happened). */
  readonly text: string
  /** What the user can do, in words: "Sign in again.", "Wait 42 seconds before sending again.", … */
  readonly hint: string
  /** For `wait`: seconds before sending again (the response's `retry-after`), when known. */
  readonly retryInSeconds?: number
  readonly code?: string
  readonly requestId?: string
}

/**
 * `retryAfter`: the `retry-after` header (seconds) of the response that carried this request id,
 * as `gatewayFetch` (./gateway-fetch.ts) recorded it; the error object itself has the body only.
 */
export function describeGatewayError(error: Error, retryAfter: (requestId: string) => number | undefined = () => undefined): GatewayErrorView {
  const body = parseBody(error.message)
  if (body === undefined) {
    // Not the gateway's JSON: a network failure (offline, or CORS refused: see the gateway's
    // log line, `cors`) or an error event in the middle of a stream (its text is the message).
    if (/failed to fetch|networkerror|load failed/i.test(error.message))
      return { action: 'retry', text: 'The chat could not be reached.', hint: 'Check your connection and try again.' }
    return { action: 'retry', text: error.message === '' ? 'The answer was interrupted.' : error.message, hint: '' }
  }
  const { error: code, message, requestId } = body
  const base = { code, text: message === '' ? code : message, ...(requestId === undefined ? {} : { requestId }) }
  switch (code) {
    case 'session_required':
    case 'session_invalid':
      return { ...base, action: 'sign-in', hint: 'Sign in again to keep chatting.' }
    case 'rate_limited':
    case 'too_many_streams':
    case 'upstream_rate_limited':
    case 'upstream_budget_exhausted': {
      const seconds = requestId === undefined ? undefined : retryAfter(requestId)
      return {
        ...base,
        action: 'wait',
        hint: seconds === undefined ? 'Wait a moment before sending again.' : `Wait ${seconds} seconds before sending again.`,
        ...(seconds === undefined ? {} : { retryInSeconds: seconds })
      }
    }
    case 'upstream_error':
    case 'upstream_unavailable':
    case 'upstream_timeout':
    case 'upstream_auth_failed':
    case 'overloaded':
    case 'redis_unavailable':
    case 'session_unavailable':
    case 'internal_error':
      return { ...base, action: 'retry', hint: 'Try again.' }
    case 'payload_too_large':
      return { ...base, action: 'new-conversation', hint: 'Start a new conversation.' }
    default:
      // origin_not_allowed, agent_not_allowed, forbidden_field, invalid_*: a setup problem,
      // not something the user can fix. The request id lets support find the log line.
      return { ...base, action: 'contact-support', hint: `Please tell support (request ${requestId ?? 'unknown'}).` }
  }
}

function parseBody(text: string): { error: string; message: string; requestId?: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { error?: unknown }).error === 'string') {
      const body = parsed as { error: string; message?: unknown; requestId?: unknown }
      return {
        error: body.error,
        message: typeof body.message === 'string' ? body.message : '',
        ...(typeof body.requestId === 'string' ? { requestId: body.requestId } : {})
      }
    }
  } catch {
    // not JSON
  }
  return undefined
}
