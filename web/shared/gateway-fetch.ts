/**
 * The `fetch` the demo's chat transports use: the plain one, plus a note of each refusal. The
 * chat clients hand the page less than the response: useChat the body only (as
 * `error.message`, without the `retry-after` header), InstantSearch's transport the body's
 * `message` only (without the `error` code to switch on). The note gives both back:
 * `retryAfterOf(requestId)` for `describeGatewayError(error, retryAfterOf)`, and
 * `refusalBody(message)` for a client that kept the message alone.
 */
const retryAfterByRequest = new Map<string, number>()
let lastRefusal: { readonly body: string; readonly message: unknown } | undefined

export const gatewayFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init)
  if (response.ok) return response
  const requestId = response.headers.get('x-request-id')
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN)
  if (requestId !== null && Number.isInteger(retryAfter) && retryAfter >= 0) retryAfterByRequest.set(requestId, retryAfter)
  const body = await response
    .clone()
    .text()
    .catch(() => '')
  lastRefusal = { body, message: messageOf(body) }
  return response
}

export function retryAfterOf(requestId: string): number | undefined {
  return retryAfterByRequest.get(requestId)
}

/** The whole body of the last refusal, when its `message` is the one given; otherwise undefined. */
export function refusalBody(message: string): string | undefined {
  return lastRefusal !== undefined && lastRefusal.message === message ? lastRefusal.body : undefined
}

function messageOf(body: string): unknown {
  try {
    return (JSON.parse(body) as { message?: unknown } | null)?.message
  } catch {
    return undefined
  }
}
