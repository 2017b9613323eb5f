import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { GATEWAY_ERROR_CODES, InternalError, InvalidId, InvalidRequest, MalformedJson, NotFound, PayloadTooLarge, UnsupportedMediaType } from './errors.js'
import type { ErrorBody } from './errors.js'
import { isClientGone } from './plugins/client-gone.js'
import { startSummary } from './plugins/request-summary.js'

interface PublicError {
  readonly statusCode: number
  readonly code: string
  readonly message: string
  readonly headers?: Record<string, string | number>
  /** Extra body fields our own errors may carry (an upstream 422's sanitised `detail`). */
  readonly fields?: Record<string, unknown>
}

type GatewayErrorLike = FastifyError & { headers?: Record<string, string | number>; publicFields?: Record<string, unknown>; upstreamStatus?: number }

/**
 * The one place errors become responses. Our own errors keep their code and sentence;
 * Fastify's body-parsing and validation errors are translated; anything else is a 500 whose
 * body says nothing about internals (the whole error goes to the request's log line).
 */
export function toPublicError(error: GatewayErrorLike, bodyLimit: number, bodyLimitSetting?: string): PublicError {
  if (GATEWAY_ERROR_CODES.has(error.code)) {
    return {
      statusCode: error.statusCode ?? 500,
      code: publicCode(error.code),
      message: error.message,
      ...(error.headers ? { headers: error.headers } : {}),
      ...(error.publicFields ? { fields: error.publicFields } : {})
    }
  }
  if (error.validation !== undefined) {
    return from(new InvalidRequest(error.message))
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      // Name the limit and its value, so a frontend developer knows what to raise or trim.
      return from(new PayloadTooLarge(`${bodyLimit} bytes${bodyLimitSetting === undefined ? '' : ` (${bodyLimitSetting})`}`))
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return from(new UnsupportedMediaType())
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return from(new MalformedJson(''))
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return from(new InvalidRequest('the content-length header does not match the body'))
  }
  // secure-json-parse's SyntaxError (e.g. a "__proto__" key) carries statusCode 400.
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return from(new MalformedJson(''))
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return from(new InvalidRequest('the request could not be understood'))
  }
  return from(new InternalError())
}

function from(error: FastifyError): PublicError {
  return { statusCode: error.statusCode!, code: publicCode(error.code), message: error.message }
}

/** @fastify/error upper-cases codes; the public ones are snake_case (`upstream_timeout`). */
export function publicCode(code: string): string {
  return code.toLowerCase()
}

export function errorBody(code: string, message: string, requestId: string, fields?: Record<string, unknown>): ErrorBody {
  return fields === undefined ? { error: code, message, requestId } : { error: code, message, requestId, ...fields }
}

export function buildErrorHandler(bodyLimit: number) {
  return function handleError(error: GatewayErrorLike, request: FastifyRequest, reply: FastifyReply) {
    const routeLimit = request.routeOptions.bodyLimit
    // A route with a limit of its own names its setting in `config.bodyLimitSetting` (none: fixed).
    const setting = routeLimit === undefined || routeLimit === bodyLimit ? 'BODY_LIMIT_BYTES' : request.routeOptions.config?.bodyLimitSetting
    const failure = toPublicError(error, routeLimit ?? bodyLimit, setting)
    request.summary.rule ??= failure.code
    // Side calls (e.g. a DELETE's ownership read) fail without having set it: the log line says what upstream answered.
    if (error.upstreamStatus !== undefined) request.summary.upstreamStatus ??= error.upstreamStatus
    if (failure.statusCode >= 500) request.summary.error = error
    if (isClientGone(request)) {
      // Nobody is left to answer; the summary line (499) records the cut.
      reply.hijack()
      return
    }
    if (reply.raw.headersSent) {
      reply.raw.destroy()
      return
    }
    if (failure.headers !== undefined) reply.headers(failure.headers)
    reply
      .code(failure.statusCode)
      .header('cache-control', 'no-store')
      .send(errorBody(failure.code, failure.message, request.id, failure.fields))
  }
}

/**
 * Requests the router rejects before any hook runs: a malformed percent-encoding in the path
 * or an over-long path segment. Same JSON shape and summary line as everything else.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  startSummary(request, reply)
  const failure = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? new InvalidId('path has a segment longer than any valid id (128 characters)') : new InvalidRequest('the URL path is not valid')
  const code = publicCode(failure.code)
  request.summary.rule = code
  reply.code(400).header('cache-control', 'no-store').send(errorBody(code, failure.message, request.id))
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  const error = new NotFound()
  const code = publicCode(error.code)
  request.summary.rule = code
  reply.code(404).header('cache-control', 'no-store').send(errorBody(code, error.message, request.id))
}

/**
 * Errors Node raises before there is a request (HEADERS_TIMEOUT_MS or REQUEST_TIMEOUT_MS ran
 * out, headers too large, bytes that are not HTTP): answered in the gateway's JSON shape, then
 * the connection is closed. Fastify's default would answer in its own shape.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [status, reason, code, message] = error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? [408, 'Request Timeout', 'request_timeout', 'The request took too long to arrive; send it again.']
    : error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'invalid_request', 'The request is not valid: its headers are too large.']
      : [400, 'Bad Request', 'invalid_request', 'The request is not valid: it is not well-formed HTTP/1.1.']
  if (socket.writable) {
    const body = JSON.stringify(errorBody(code, message, randomUUID()))
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy()
}
