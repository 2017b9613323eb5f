import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { GATEWAY_ERROR_CODES, InternalError, InvalidId, InvalidRequest, MalformedJson, NotFound, PayloadTooLarge, UnsupportedMediaType } from './errors.js'
import type { ErrorBody, GatewayError } from './errors.js'
import { startSummary } from './logging/request-summary.js'
import { isClientGone } from './http/client-gone.js'

/**
 * Where every refusal and failure is answered and recorded. `sendError` writes every error
 * response (thrown errors through `buildErrorHandler`, the router's own rejections, 404s), and
 * this file is the only writer of the log line's `rule`: the error's `logRule` when it says
 * more than the public code (`rate_limited:user`), else its public code. Only CORS preflights,
 * refused by the browser while @fastify/cors answers them 204, record theirs without an error
 * answer (`recordRefusal`, from src/plugins/cors.ts).
 */

/**
 * Our own errors as they are; Fastify's body-parsing and validation errors translated; anything
 * else a 500 whose body says nothing about internals (the whole error goes to the log line).
 */
export function toPublicError(error: FastifyError, bodyLimit: number, bodyLimitSetting?: string): GatewayError {
  if (GATEWAY_ERROR_CODES.has(error.code)) return error as GatewayError
  if (error.validation !== undefined) return new InvalidRequest(error.message)
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      // Name the limit and its value, so a frontend developer knows what to raise or trim.
      return new PayloadTooLarge(`${bodyLimit} bytes${bodyLimitSetting === undefined ? '' : ` (${bodyLimitSetting})`}`)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaType()
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new MalformedJson('')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new InvalidRequest('the content-length header does not match the body')
  }
  // secure-json-parse's SyntaxError (e.g. a "__proto__" key) carries statusCode 400.
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) return new MalformedJson('')
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return new InvalidRequest('the request could not be understood')
  return new InternalError()
}

/** @fastify/error upper-cases codes; the public ones are snake_case (`upstream_timeout`). */
export function publicCode(code: string): string {
  return code.toLowerCase()
}

function errorBody(code: string, message: string, requestId: string, fields?: Readonly<Record<string, unknown>>): ErrorBody {
  return fields === undefined ? { error: code, message, requestId } : { error: code, message, requestId, ...fields }
}

/** The rule on the request's log line: the first refusal recorded is the one that decided. */
export function recordRefusal(request: FastifyRequest, rule: string): void {
  request.summary.rule ??= rule
}

/**
 * Answers with `error` in the gateway's JSON shape (its `retry-after`, `x-ratelimit-*` and extra
 * body fields included) and records it on the log line: its rule, upstream's status, and for a
 * 5xx `logged`, the error itself or the one it translates.
 */
export function sendError(reply: FastifyReply, error: GatewayError, logged: unknown = error): void {
  const body = errorAnswer(reply, error, logged)
  if (body !== undefined) reply.send(body)
}

/** All of sendError but the sending: the body to send, or undefined when nobody is left to send it to. */
function errorAnswer(reply: FastifyReply, error: GatewayError, logged: unknown): ErrorBody | undefined {
  const request = reply.request
  recordRefusal(request, error.logRule ?? publicCode(error.code))
  // Side calls (e.g. a DELETE's ownership read) fail without having set it: the log line says what upstream answered.
  if (error.upstreamStatus !== undefined) request.summary.upstreamStatus ??= error.upstreamStatus
  if (error.statusCode >= 500) request.summary.error = logged
  if (isClientGone(request)) {
    // Nobody is left to answer; the summary line (499) records the cut.
    reply.hijack()
    return undefined
  }
  if (reply.raw.headersSent) {
    reply.raw.destroy()
    return undefined
  }
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', error.retryAfterSeconds)
  if (error.rateLimit !== undefined) {
    reply.header('x-ratelimit-limit', error.rateLimit.limit)
    reply.header('x-ratelimit-remaining', error.rateLimit.remaining)
    reply.header('x-ratelimit-reset', error.rateLimit.resetSeconds)
  }
  reply.code(error.statusCode).header('cache-control', 'no-store')
  return errorBody(publicCode(error.code), error.message, request.id, error.publicFields)
}

export function buildErrorHandler(bodyLimit: number) {
  function answer(error: FastifyError, request: FastifyRequest, reply: FastifyReply): ErrorBody | undefined {
    const routeLimit = request.routeOptions.bodyLimit
    // A route with a limit of its own names its setting in `config.bodyLimitSetting` (none: fixed).
    const setting = routeLimit === undefined || routeLimit === bodyLimit ? 'BODY_LIMIT_BYTES' : request.routeOptions.config?.bodyLimitSetting
    return errorAnswer(reply, toPublicError(error, routeLimit ?? bodyLimit, setting), error)
  }
  return function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    // The limits' answer may still be on its way (src/routes/agent-studio/pipeline.ts): a request
    // the limits refuse gets their refusal, whatever else is wrong with it, and its headers.
    const admission = request.admission
    if (admission === undefined) {
      const body = answer(error, request, reply)
      if (body !== undefined) reply.send(body)
      return
    }
    request.admission = undefined
    // Fastify sends what the promise gives (nothing when nobody is left to answer).
    return admission.then(
      () => answer(error, request, reply),
      (refusal: FastifyError) => answer(refusal, request, reply)
    )
  }
}

/**
 * Requests the router rejects before any hook runs: a malformed percent-encoding in the path
 * or an over-long path segment. Same JSON shape and summary line as everything else.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  startSummary(request, reply)
  sendError(
    reply,
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new InvalidId('path has a segment longer than any valid id (128 characters)')
      : new InvalidRequest('the URL path is not valid')
  )
}

export function notFoundHandler(_request: FastifyRequest, reply: FastifyReply) {
  sendError(reply, new NotFound())
}

/**
 * Errors Node raises before there is a request (HEADERS_TIMEOUT_MS or REQUEST_TIMEOUT_MS ran
 * out, headers too large, bytes that are not HTTP): answered in the gateway's JSON shape, then
 * the connection is closed. Fastify's default would answer in its own shape.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [status, reason, code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'request_timeout', 'The request took too long to arrive; send it again.']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'invalid_request', 'The request is not valid: its headers are too large.']
        : [400, 'Bad Request', 'invalid_request', 'The request is not valid: it is not well-formed HTTP/1.1.']
  if (socket.writable) {
    const body = JSON.stringify(errorBody(code, message, randomUUID()))
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`
    )
  }
  socket.destroy()
}
