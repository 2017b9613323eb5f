/**
 * What a chat UI should show for an error from the gateway. The AI SDK (`useChat`, ai 5 and
 * later) and the InstantSearch chat widget both put the failed response's body into
 * `error.message`; the gateway's body is `{ error, message, requestId }`, and a stream that
 * breaks after it started ends with an `error` event whose text is the message alone.
 * Switch on the stable `error` code, never on the wording.
 */
export type GatewayErrorAction = 'sign-in' | 'wait' | 'retry' | 'new-conversation' | 'contact-support'

export interface GatewayErrorView {
  readonly action: GatewayErrorAction
  /** A sentence for the user. */
  readonly text: string
  /** For `wait`: seconds before sending again (from the gateway's message), when known. */
  readonly retryInSeconds?: number
  readonly code?: string
  readonly requestId?: string
}

export function describeGatewayError(error: Error): GatewayErrorView {
  const body = parseBody(error.message)
  if (body === undefined) {
    // Not the gateway's JSON: a network failure (offline, or CORS refused: see the gateway's
    // log line, `cors`) or an error event in the middle of a stream.
    if (/failed to fetch|networkerror|load failed/i.test(error.message)) return { action: 'retry', text: 'The chat could not be reached. Check your connection and try again.' }
    return { action: 'retry', text: `The answer was interrupted: ${error.message}` }
  }
  const { error: code, message, requestId } = body
  const base = { code, ...(requestId === undefined ? {} : { requestId }) }
  switch (code) {
    case 'session_required':
    case 'session_invalid':
      return { ...base, action: 'sign-in', text: 'Your session has ended. Sign in again to keep chatting.' }
    case 'rate_limited':
    case 'too_many_streams': {
      const seconds = /retry in (\d+) seconds/.exec(message)?.[1]
      return { ...base, action: 'wait', text: message, ...(seconds === undefined ? {} : { retryInSeconds: Number(seconds) }) }
    }
    case 'upstream_error':
    case 'upstream_unavailable':
    case 'upstream_timeout':
    case 'overloaded':
    case 'redis_unavailable':
    case 'session_unavailable':
      return { ...base, action: 'retry', text: 'The assistant is unavailable for a moment. Try again.' }
    case 'payload_too_large':
      return { ...base, action: 'new-conversation', text: 'This conversation is too long. Start a new one.' }
    default:
      // origin_not_allowed, agent_not_allowed, forbidden_field, invalid_*: a setup problem,
      // not something the user can fix. Show the request id so support can find the log line.
      return { ...base, action: 'contact-support', text: `Something is wrong with this chat's setup (${code}).` }
  }
}

function parseBody(text: string): { error: string; message: string; requestId?: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { error?: unknown }).error === 'string') {
      const body = parsed as { error: string; message?: unknown; requestId?: unknown }
      return { error: body.error, message: typeof body.message === 'string' ? body.message : '', ...(typeof body.requestId === 'string' ? { requestId: body.requestId } : {}) }
    }
  } catch {
    // not JSON
  }
  return undefined
}
