import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'

/**
 * The one header boundary of the gateway. Everything that leaves for Agent Studio, and
 * everything that comes back to the browser, goes through these two pure functions.
 *
 * Requests: deny by default. Only a short allow-list of harmless client headers is copied;
 * then the gateway's credentials are set. Cookies, authorization, the browser's Origin and
 * Referer, any `x-algolia-*` (but a validated `x-algolia-referer`) and hop-by-hop headers can
 * therefore never pass, whatever their case or spelling.
 */

/** Client headers worth passing on (content negotiation and diagnostics only). */
export const FORWARDED_CLIENT_HEADERS = ['accept', 'accept-language', 'user-agent'] as const

/**
 * `x-algolia-referer`: which InstantSearch entry point opened the chat, for Algolia's
 * attribution (instantsearch.js 4.118 lib/chat/openChat.js sets it from the entry point's
 * `referer`: widgets/search-box `ai-mode`, widgets/autocomplete `ai-mode` and
 * `prompt-suggestions-autocomplete`, connectors/prompt-suggestions `prompt-suggestions-widget`,
 * connectors/compare `compare`; Algolia's docs also name `page-suggestions`). The browser's
 * value leaves only if it is one of these or a short lower-case token: it is a label, never
 * free text (no header injection, no personal data in Algolia's analytics).
 */
export const KNOWN_ALGOLIA_REFERERS = ['ai-mode', 'prompt-suggestions-widget', 'prompt-suggestions-autocomplete', 'page-suggestions', 'compare'] as const
const REFERER_TOKEN = /^[a-z0-9][a-z0-9-]{0,47}$/

/** The browser's `x-algolia-referer` if it may leave, else undefined (absent, repeated or not a token). */
export function validAlgoliaReferer(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && REFERER_TOKEN.test(value) ? value : undefined
}

/** The metrics label of an `x-algolia-referer`: a documented value, `other` (a valid token), `invalid` (dropped), or undefined when absent. */
export function entryPointLabel(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined
  const valid = validAlgoliaReferer(value)
  if (valid === undefined) return 'invalid'
  return (KNOWN_ALGOLIA_REFERERS as readonly string[]).includes(valid) ? valid : 'other'
}

export interface UpstreamCredentials {
  readonly appId: string
  readonly apiKey: string
  /** Absent only for calls Agent Studio takes without one (conversation DELETE). */
  readonly userToken: string | undefined
}

/**
 * What the gateway itself says about where the call comes from. `origin` is configuration
 * (UPSTREAM_ORIGIN, agents.<agentId>.upstreamOrigin), never the browser's `Origin`: an agent
 * with approved domains answers 403 to a completion whose Origin does not match, or that has
 * none (Algolia docs, Agent Studio "Approved domains"). Sending the browser's would let any
 * page that gets past CORS choose which approved domain it claims to be.
 */
export interface UpstreamOriginHeaders {
  readonly origin?: string | undefined
}

export function buildUpstreamRequestHeaders(
  client: IncomingHttpHeaders,
  credentials: UpstreamCredentials,
  jsonBody = true,
  from: UpstreamOriginHeaders = {}
): Record<string, string> {
  const headers: Record<string, string> = {}
  // RFC 9110 §7.6.1: headers named in Connection are hop-by-hop. Drop them before anything
  // else, so `Connection: x-algolia-api-key` cannot remove what the gateway adds below.
  const named = namedInConnection(client.connection)
  for (const name of FORWARDED_CLIENT_HEADERS) {
    const value = client[name]
    if (typeof value === 'string' && !named.has(name)) headers[name] = value
  }
  const referer = named.has('x-algolia-referer') ? undefined : validAlgoliaReferer(client['x-algolia-referer'])
  if (referer !== undefined) headers['x-algolia-referer'] = referer
  if (from.origin !== undefined) headers.origin = from.origin
  // The body is always one the gateway rebuilt (JSON) or none at all.
  if (jsonBody) headers['content-type'] = 'application/json'
  headers['x-algolia-application-id'] = credentials.appId
  headers['x-algolia-api-key'] = credentials.apiKey
  if (credentials.userToken !== undefined) headers['x-algolia-secure-user-token'] = credentials.userToken
  return headers
}

function namedInConnection(connection: string | undefined): ReadonlySet<string> {
  if (connection === undefined || connection.length === 0) return EMPTY
  return new Set(
    connection
      .toLowerCase()
      .split(',')
      .map((name) => name.trim())
  )
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
  'x-vercel-ai-data-stream',
  // Agent Studio's completion cache (issue 10): why an answer is the same as last time.
  'x-cache',
  'cache-status'
])

export function filterUpstreamResponseHeaders(upstream: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {}
  for (const name in upstream) {
    const lower = name.toLowerCase()
    if (FORWARDED_RESPONSE_HEADERS.has(lower)) headers[lower] = upstream[name]
  }
  return headers
}
