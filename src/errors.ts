import createError from '@fastify/error'

/**
 * Every error the gateway answers with, in one place. The code is the public, stable
 * `error` field of the JSON body; the message is a sentence for a person (`%s` is filled
 * with request-specific detail that is safe to show). Client errors skip the stack trace:
 * they are expected, frequent, and the stack says nothing useful.
 */
const clientError = (code: string, statusCode: number, message: string) =>
  createError<string, number, [string?]>(code, message, statusCode, Error, false)
const serverError = (code: string, statusCode: number, message: string) =>
  createError<string, number, [string?]>(code, message, statusCode)

export const MalformedJson = clientError('malformed_json', 400, 'The request body is not valid JSON%s.')
export const InvalidRequest = clientError('invalid_request', 400, 'The request is not valid: %s.')
export const InvalidQuery = clientError('invalid_query', 400, 'The query string is not valid: %s.')
export const InvalidId = clientError('invalid_id', 400, 'The %s.')
export const ForbiddenField = clientError('forbidden_field', 400, 'The field %s may not be sent from a browser.')
export const SessionRequired = clientError('session_required', 401, 'Sign in first: this request carries no session.')
export const SessionInvalid = clientError('session_invalid', 401, 'Your session is invalid or has expired; sign in again.')
export const AgentNotAllowed = clientError('agent_not_allowed', 403, 'This agent is not available through this gateway.')
export const OriginNotAllowed = clientError('origin_not_allowed', 403, 'Requests from this page\'s origin are not allowed%s.')
export const SearchKeyUnavailable = clientError('search_key_unavailable', 403, 'No search key can be issued for this session: it lacks the claim "%s" the search restrictions need.')
export const NotFound = clientError('not_found', 404, 'There is no such route on this gateway.')
export const ConversationNotFound = clientError('conversation_not_found', 404, 'There is no such conversation.')
export const PayloadTooLarge = clientError('payload_too_large', 413, 'The request body is larger than the %s this gateway accepts.')
export const UnsupportedMediaType = clientError('unsupported_media_type', 415, 'Send the request body as JSON with content-type: application/json.')
export const RateLimited = clientError('rate_limited', 429, 'Too many requests; retry in %s seconds.')
export const TooManyStreams = clientError('too_many_streams', 429, 'Too many answers are streaming at once%s; wait for one to finish.')
export const UpstreamRateLimited = clientError('upstream_rate_limited', 429, 'Agent Studio is answering too many requests for this application right now; retry in %s seconds.')
/** Agent Studio's own 4xx answers, re-worded: its body is never relayed (issue 11). The status is upstream's. */
export const UpstreamRejected = clientError('upstream_rejected', 400, 'Agent Studio refused the request (status %s).')
export const UpstreamNotFound = clientError('upstream_not_found', 404, 'Agent Studio has no such agent or resource.')
export const UpstreamValidationFailed = clientError('upstream_validation_failed', 422, 'Agent Studio found the request invalid; see "detail" for the fields it named.')
export const UpstreamAuthFailed = serverError('upstream_auth_failed', 502, 'Agent Studio refused the gateway\'s own Algolia credentials (status %s): a problem with the gateway\'s configuration, not with your session. Try again later.')
export const UpstreamBudgetExhausted = clientError('upstream_budget_exhausted', 429, 'The gateway is holding back requests to Agent Studio: %s.')
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

/** The codes above (as @fastify/error stores them: upper case); anything else reaching the error handler is mapped or becomes internal_error. */
export const GATEWAY_ERROR_CODES: ReadonlySet<string> = new Set([
  MalformedJson, InvalidRequest, InvalidQuery, InvalidId, ForbiddenField, SessionRequired, SessionInvalid,
  AgentNotAllowed, OriginNotAllowed, SearchKeyUnavailable, NotFound, ConversationNotFound, PayloadTooLarge, UnsupportedMediaType, RateLimited,
  TooManyStreams, UpstreamRateLimited, UpstreamRejected, UpstreamNotFound, UpstreamValidationFailed, UpstreamAuthFailed, UpstreamBudgetExhausted, ClientGone, UpstreamError, ErasureIncomplete, UpstreamUnavailable, Overloaded, NotReady, SessionUnavailable, RedisUnavailable,
  UpstreamTimeout, InternalError
].map((ErrorClass) => new ErrorClass().code))

export interface ErrorBody {
  readonly error: string
  readonly message: string
  readonly requestId: string
}
