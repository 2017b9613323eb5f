import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'

/**
 * The one header boundary of the gateway. Everything that leaves for Agent Studio, and
 * everything that comes back to the browser, goes through these two pure functions.
 *
 * Requests: deny by default. Only a short allow-list of harmless client headers is copied;
 * then the gateway's credentials are set. Cookies, authorization, any `x-algolia-*` and
 * hop-by-hop headers can therefore never pass, whatever their case or spelling.
 */

/** Client headers worth passing on (content negotiation and diagnostics only). */
export const FORWARDED_CLIENT_HEADERS = ['accept', 'accept-language', 'user-agent'] as const

export interface UpstreamCredentials {
  readonly appId: string
  readonly apiKey: string
  /** Absent only for calls Agent Studio takes without one (conversation DELETE). */
  readonly userToken: string | undefined
}

export function buildUpstreamRequestHeaders(client: IncomingHttpHeaders, credentials: UpstreamCredentials, jsonBody = true): Record<string, string> {
  const headers: Record<string, string> = {}
  // RFC 9110 §7.6.1: headers named in Connection are hop-by-hop. Drop them before anything
  // else, so `Connection: x-algolia-api-key` cannot remove what the gateway adds below.
  const named = namedInConnection(client.connection)
  for (const name of FORWARDED_CLIENT_HEADERS) {
    const value = client[name]
    if (typeof value === 'string' && !named.has(name)) headers[name] = value
  }
  // The body is always one the gateway rebuilt (JSON) or none at all.
  if (jsonBody) headers['content-type'] = 'application/json'
  headers['x-algolia-application-id'] = credentials.appId
  headers['x-algolia-api-key'] = credentials.apiKey
  if (credentials.userToken !== undefined) headers['x-algolia-secure-user-token'] = credentials.userToken
  return headers
}

function namedInConnection(connection: string | undefined): ReadonlySet<string> {
  if (connection === undefined || connection.length === 0) return EMPTY
  return new Set(connection.toLowerCase().split(',').map((name) => name.trim()))
}
const EMPTY: ReadonlySet<string> = new Set()

/**
 * Upstream response headers the browser may see. An allow-list again: set-cookie, x-algolia-*,
 * hop-by-hop headers (RFC 9110 §7.6.1) and anything Algolia adds later stay on this side.
 * `content-length` stays behind too (issue 11): the relayed body is ours to frame. Passed on,
 * a stream that broke got its error event written past the declared length (corrupting the
 * next response on a kept-alive connection) or ended short and hung the client; Node frames
 * relayed bodies with chunked encoding instead, and a break is then visible as a break.
 */
const FORWARDED_RESPONSE_HEADERS = new Set([
  'content-type',
  'content-encoding',
  'content-language',
  'cache-control',
  'retry-after',
  'x-vercel-ai-ui-message-stream',
  'x-vercel-ai-data-stream'
])

export function filterUpstreamResponseHeaders(upstream: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {}
  for (const name in upstream) {
    const lower = name.toLowerCase()
    if (FORWARDED_RESPONSE_HEADERS.has(lower)) headers[lower] = upstream[name]
  }
  return headers
}
