import createError from '@fastify/error'

/**
 * Every error the gateway answers with, in one place. The code is the public, stable
 * `error` field of the JSON body; the message is a sentence for a person (`%s` is filled
 * with request-specific detail that is safe to show). Client errors skip the stack trace:
 * they are expected, frequent, and the stack says nothing useful.
 *
 * What an answer or its log line needs beyond code, status and sentence is a declared field
 * of the error, given when it is made (`new RateLimited('3', { retryAfterSeconds: 3, … })`);
 * the error handler (src/error-handler.ts) writes each where it belongs.
 */

/** What an error may carry besides its code, status and sentence. */
export interface GatewayErrorOptions {
  /** The failure underneath: logged with a 5xx answer (`err.cause`), never sent. */
  readonly cause?: unknown
  /** Sent as `retry-after` (seconds). */
  readonly retryAfterSeconds?: number
  /** The counter that refused, sent as `x-ratelimit-limit`, `-remaining` and `-reset`. */
  readonly rateLimit?: RateLimitState
  /** The log line's `rule` when it says more than the public code: `rate_limited:user` for `rate_limited`. */
  readonly logRule?: string
  /** Agent Studio's status, when the error stands for its answer (the log line's `upstreamStatus`). */
  readonly upstreamStatus?: number
  /** Replaces the status of the error's kind: `upstream_rejected` answers with upstream's own 4xx. */
  readonly statusCode?: number
  /** More fields of the JSON body, safe to show: an upstream 422's sanitised `detail`, an erasure's progress. */
  readonly publicFields?: Readonly<Record<string, unknown>>
}

export interface RateLimitState {
  readonly limit: number
  readonly remaining: number
  readonly resetSeconds: number
}

/** One of the errors below: @fastify/error's (`code` upper case, `name: 'FastifyError'`) with the options above as fields. */
export interface GatewayError extends Error {
  readonly code: string
  readonly statusCode: number
  readonly retryAfterSeconds?: number
  readonly rateLimit?: RateLimitState
  readonly logRule?: string
  readonly upstreamStatus?: number
  /** Not read-only: an erasure adds what it did to the upstream error that stopped it. */
  publicFields?: Readonly<Record<string, unknown>>
}

/** A kind of error whose message has no `%s`: `new NotFound()`, `new SessionInvalid({ cause })`. */
export interface PlainErrorClass {
  new (options?: GatewayErrorOptions): GatewayError
}

/** A kind of error whose message takes a detail: `new InvalidRequest('the body is empty', { cause })`. */
export interface DetailedErrorClass {
  new (detail: string, options?: GatewayErrorOptions): GatewayError
}

type ErrorClass<Message extends string> = Message extends `${string}%s${string}` ? DetailedErrorClass : PlainErrorClass

const codes = new Set<string>()

/**
 * A kind of error. Instances are @fastify/error's own (so `instanceof` works and the log's
 * `err.type` stays `FastifyError`); @fastify/error keeps `cause` itself, the other options
 * are set here and nowhere else.
 */
function defineError<Message extends string>(code: string, statusCode: number, message: Message, stack: boolean): ErrorClass<Message> {
  const FastifyErrorClass = createError<string, number, unknown[]>(code, message, statusCode, Error, stack)
  codes.add(code.toUpperCase())
  function GatewayErrorClass(...args: unknown[]): GatewayError {
    const options = typeof args.at(-1) === 'object' ? (args.pop() as GatewayErrorOptions) : {}
    const error = new FastifyErrorClass(...args, ...(options.cause === undefined ? [] : [{ cause: options.cause }])) as Writable<GatewayError>
    if (options.statusCode !== undefined) error.statusCode = options.statusCode
    if (options.retryAfterSeconds !== undefined) error.retryAfterSeconds = options.retryAfterSeconds
    if (options.rateLimit !== undefined) error.rateLimit = options.rateLimit
    if (options.logRule !== undefined) error.logRule = options.logRule
    if (options.upstreamStatus !== undefined) error.upstreamStatus = options.upstreamStatus
    if (options.publicFields !== undefined) error.publicFields = options.publicFields
    // The stack starts where the error was made, not in this function.
    if (stack) Error.captureStackTrace(error, GatewayErrorClass)
    return error
  }
  Object.defineProperty(GatewayErrorClass, Symbol.hasInstance, { value: (instance: unknown) => instance instanceof FastifyErrorClass })
  return GatewayErrorClass as unknown as ErrorClass<Message>
}

type Writable<T> = { -readonly [K in keyof T]: T[K] }

const clientError = <Message extends string>(code: string, statusCode: number, message: Message) => defineError(code, statusCode, message, false)
const serverError = <Message extends string>(code: string, statusCode: number, message: Message) => defineError(code, statusCode, message, true)

export const MalformedJson = clientError('malformed_json', 400, 'The request body is not valid JSON%s.')
export const InvalidRequest = clientError('invalid_request', 400, 'The request is not valid: %s.')
export const InvalidQuery = clientError('invalid_query', 400, 'The query string is not valid: %s.')
export const InvalidId = clientError('invalid_id', 400, 'The %s.')
export const ForbiddenField = clientError('forbidden_field', 400, 'The field %s may not be sent from a browser.')
export const SessionRequired = clientError('session_required', 401, 'Sign in first: this request carries no session.')
export const SessionInvalid = clientError('session_invalid', 401, 'Your session is invalid or has expired; sign in again.')
export const AgentNotAllowed = clientError('agent_not_allowed', 403, 'This agent is not available through this gateway.')
export const OriginNotAllowed = clientError('origin_not_allowed', 403, "Requests from this page's origin are not allowed%s.")
export const SearchKeyUnavailable = clientError(
  'search_key_unavailable',
  403,
  'No search key can be issued for this session: it lacks the claim "%s" the search restrictions need.'
)
export const NotFound = clientError('not_found', 404, 'There is no such route on this gateway.')
export const ConversationNotFound = clientError('conversation_not_found', 404, 'There is no such conversation.')
export const ErasureNotFound = clientError('erasure_not_found', 404, 'No erasure of your data was started (DELETE /agent-studio/1/user-data/me starts one).')
export const PayloadTooLarge = clientError('payload_too_large', 413, 'The request body is larger than the %s this gateway accepts.')
export const UnsupportedMediaType = clientError('unsupported_media_type', 415, 'Send the request body as JSON with content-type: application/json.')
export const RateLimited = clientError('rate_limited', 429, 'Too many requests; retry in %s seconds.')
export const TooManyStreams = clientError('too_many_streams', 429, 'Too many answers are streaming at once%s; wait for one to finish.')
export const UpstreamRateLimited = clientError(
  'upstream_rate_limited',
  429,
  'Agent Studio is answering too many requests for this application right now; retry in %s seconds.'
)
/** Agent Studio's own 4xx answers, re-worded: its body is never relayed (issue 11). The status is upstream's. */
export const UpstreamRejected = clientError('upstream_rejected', 400, 'Agent Studio refused the request (status %s).')
export const UpstreamNotFound = clientError('upstream_not_found', 404, 'Agent Studio has no such agent or resource.')
export const UpstreamValidationFailed = clientError(
  'upstream_validation_failed',
  422,
  'Agent Studio found the request invalid; see "detail" for the fields it named.'
)
export const UpstreamAuthFailed = serverError(
  'upstream_auth_failed',
  502,
  "Agent Studio refused the gateway's own Algolia credentials (status %s): a problem with the gateway's configuration, not with your session. Try again later."
)
export const UpstreamBudgetExhausted = clientError('upstream_budget_exhausted', 429, 'The gateway is holding back requests to Agent Studio: %s.')
/** Issue 24: `%s` says which budget and when it resets (ISO 8601). */
export const TokenBudgetExhausted = clientError('token_budget_exhausted', 429, 'The token budget is used up: %s.')
export const ToolNotApprovable = clientError('tool_not_approvable', 403, 'This tool cannot be approved from a browser: %s.')
export const ApprovalInvalid = clientError(
  'approval_invalid',
  403,
  'This tool approval does not match a request the gateway issued to you, or was already used: %s.'
)
export const UpstreamShareExhausted = clientError(
  'upstream_share_exhausted',
  429,
  'You have used your share of the requests to Agent Studio for now (%s); others share the same budget.'
)
/** Not an answer: the browser left; the error handler sends nothing (the log line says 499). */
export const ClientGone = clientError('client_gone', 499, 'The client closed the connection.')
export const UpstreamError = serverError('upstream_error', 502, 'Agent Studio failed to answer; try again shortly.')
export const ErasureIncomplete = serverError('erasure_incomplete', 502, 'Your data was only partly erased (%s); send the same request again to finish.')
export const UpstreamUnavailable = serverError('upstream_unavailable', 502, 'Agent Studio could not be reached; try again shortly.')
export const Overloaded = serverError('overloaded', 503, 'The gateway is overloaded; retry in a few seconds.')
export const NotReady = serverError('not_ready', 503, 'The gateway is not ready: %s.')
export const SessionUnavailable = serverError('session_unavailable', 503, 'Your session could not be checked right now; try again shortly.')
export const RedisUnavailable = serverError('redis_unavailable', 503, 'Usage limits cannot be checked right now; try again in a few seconds.')
export const UpstreamTimeout = serverError('upstream_timeout', 504, 'Agent Studio took too long to answer (%s); try again.')
export const InternalError = serverError('internal_error', 500, 'Something went wrong in the gateway; the request id helps us find out what.')

/** The codes above (upper case, as @fastify/error stores them); anything else reaching the error handler is mapped or becomes internal_error. */
export const GATEWAY_ERROR_CODES: ReadonlySet<string> = codes

export interface ErrorBody {
  readonly error: string
  readonly message: string
  readonly requestId: string
}
