import { EventEmitter } from 'node:events'
import { Readable } from 'node:stream'
import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Dispatcher } from 'undici'
import type { CompatibilityMode, UpstreamConfig } from '../config/types.js'
import { filterUpstreamResponseHeaders } from '../credentials/header-boundary.js'
import { UpstreamError, UpstreamTimeout, UpstreamUnavailable } from '../errors.js'
import { CLIENT_CLOSED_REQUEST, recordBrokenStream, recordCut, recordUpstreamAnswer, recordUpstreamSent } from '../logging/request-summary.js'
import { isClientGone } from '../http/client-gone.js'
import { streamErrorEvent } from './stream-errors.js'
import { eventBoundary } from './event-boundary.js'
import { credentialOrBudgetError, upstreamRefusal } from './upstream-errors.js'
import type { UpstreamStatusHooks } from './upstream-errors.js'
import { PRIVATE_CACHE_CONTROL, privateVary } from '../credentials/private-answer.js'
import { readBoundedText, UPSTREAM_READ_LIMIT_BYTES } from '../http/read-bounded.js'
import { usageTap } from '../usage/usage-reader.js'
import type { TokenUsage } from '../usage/usage-reader.js'

export interface UpstreamCall {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  /** Path below the Agent Studio base, query string included. */
  readonly path: string
  readonly headers: Record<string, string>
  readonly body?: string
  /** Set for completions: decides the error event written when a stream breaks. */
  readonly mode?: CompatibilityMode
  /**
   * For answers whose protocol the content type tells (tasks: raw JSON text, or SSE with
   * `data-task-output` chunks): the mode to relay them in, by the upstream content type.
   */
  readonly modeFor?: (contentType: string) => CompatibilityMode | undefined
  /** Rewrites whole streamed events before they are relayed (AG-UI thread ids; needs `mode`). */
  readonly rewriteEvents?: (events: Buffer) => Buffer
  /** Turns an upstream status into the gateway's own error instead of relaying it (e.g. 404 → no oracle). */
  readonly refuse?: (statusCode: number) => Error | undefined
  /**
   * For JSON answers the gateway must rewrite (conversation ids mapped back to the client's):
   * a 200 answer is read whole, parsed and replaced by what this returns; it may throw one of
   * our errors. Other statuses take the usual path.
   */
  readonly rewriteJson?: (body: unknown) => unknown
  /**
   * Issue 24: told the tokens a 200 answer cost (undefined: it reported none) once it is over,
   * ended or cut, before its log line is written. Read from the events as they pass
   * (src/usage/usage-reader.ts); the bytes relayed are not changed.
   */
  readonly onUsage?: (usage: TokenUsage | undefined) => void
  /** Shown each run of whole streamed events before they are relayed, unchanged (tool approval requests: src/approvals/). */
  readonly observeEvents?: (events: Buffer) => void
  /**
   * One event of the gateway's own, in the stream's protocol, written once before the stream's end
   * marker (`data: [DONE]`) or at its end: issue 24's token budget left, as AI SDK message metadata.
   * Told the answer's usage so far. Undefined: nothing is written.
   */
  readonly trailer?: (usage: TokenUsage | undefined) => string | undefined
}

export interface UpstreamAnswer {
  readonly statusCode: number
  readonly body: unknown
}

export interface Upstream {
  /** Sends the call and relays the answer to the browser as it arrives. */
  forward(request: FastifyRequest, reply: FastifyReply, call: UpstreamCall): Promise<void>
  /** A call whose JSON answer the gateway reads itself (to map conversation ids): same timeouts. */
  request(call: Omit<UpstreamCall, 'mode' | 'modeFor' | 'refuse'>): Promise<UpstreamAnswer>
}

/** The AI SDK UI message stream's end marker (the trailer goes before it). */
const DONE = Buffer.from('data: [DONE]\n\n')

/**
 * Bodies up to this size go to undici whole, written with their headers in one system call (issue
 * 26: a stream body costs a second write to Agent Studio per request); kept until the answer ends,
 * which is at most this much per open stream.
 */
const WHOLE_BODY_BYTES = 16 * 1024

/**
 * The request body as undici sends it. A long chat's body is a megabyte or more, and the call
 * lives as long as its answer streams (minutes): handed over whole, undici keeps it until the
 * answer ends. As a stream that gives up its one chunk when read, nothing keeps it once it has
 * been written to the socket (issue 26: an open long-chat stream then costs what a short one does).
 * Its length is sent as `content-length`, as it would be for the whole body.
 */
function upstreamBody(text: string | undefined): { body: Readable | string | null; length?: string } {
  if (text === undefined) return { body: null }
  // The string as it is (undici writes it with the headers): no copy on the common path.
  if (Buffer.byteLength(text) <= WHOLE_BODY_BYTES) return { body: text }
  let chunk: Buffer | undefined = Buffer.from(text)
  const length = String(chunk.length)
  const body = new Readable({
    read() {
      this.push(chunk)
      chunk = undefined
      this.push(null)
    }
  })
  return { body, length }
}

export function createUpstream(baseUrl: URL, config: UpstreamConfig, dispatcher: Dispatcher, hooks: UpstreamStatusHooks = {}): Upstream {
  const origin = baseUrl.origin
  const basePath = baseUrl.pathname
  const totalLimit = `${Math.round(config.totalTimeoutMs / 1000)} s in total`
  const firstByteLimit = `no answer within ${Math.round(config.firstByteTimeoutMs / 1000)} s`

  /** One upstream call with the configured per-phase timeouts; `signal` aborts it. */
  function send(call: Omit<UpstreamCall, 'mode' | 'modeFor' | 'refuse'>, signal: EventEmitter | AbortSignal): Promise<Dispatcher.ResponseData> {
    const { body, length } = upstreamBody(call.body)
    return dispatcher.request({
      origin,
      path: basePath + call.path,
      method: call.method,
      headers: length === undefined ? call.headers : { ...call.headers, 'content-length': length },
      body,
      signal,
      headersTimeout: config.firstByteTimeoutMs,
      bodyTimeout: config.idleTimeoutMs
    })
  }

  async function forward(request: FastifyRequest, reply: FastifyReply, call: UpstreamCall): Promise<void> {
    const summary = request.summary
    const res = reply.raw
    // The browser left while we were preparing: no call for nobody (issue 11 item 6).
    if (isClientGone(request)) {
      reply.hijack()
      return
    }
    // undici accepts an EventEmitter as the abort signal (documented in Dispatcher.request);
    // it is much cheaper to create per request than an AbortController.
    const abortSignal = new EventEmitter()
    const abort = () => abortSignal.emit('abort')

    // An unfinished LLM answer costs money: when the browser goes, the upstream call goes too.
    const onClientGone = () => {
      if (!res.writableFinished) {
        recordCut(summary, 'client')
        abort()
      }
    }
    // Ahead of the summary logger's listener, so the log line knows who cut the stream.
    res.prependOnceListener('close', onClientGone)
    const totalTimer = setTimeout(() => {
      recordCut(summary, 'timeout')
      abort()
    }, config.totalTimeoutMs)
    const done = () => {
      clearTimeout(totalTimer)
      res.off('close', onClientGone)
    }

    /** When the browser has gone, nobody is left to answer; the summary line still records the cut. */
    const answeredNobody = (): boolean => {
      if (summary.cutBy !== 'client') return false
      reply.hijack()
      res.statusCode = CLIENT_CLOSED_REQUEST
      return true
    }

    let response: Dispatcher.ResponseData
    recordUpstreamSent(summary, reply.elapsedTime)
    try {
      response = await send(call, abortSignal)
    } catch (error) {
      done()
      // Cut (by the browser or the timeout) after the call was sent: Agent Studio may have run the
      // model and billed it. Charged as an unreported answer is (an estimate), so that leaving
      // before the headers cannot dodge the token budgets (review of issue 24).
      if (summary.cutBy !== undefined) call.onUsage?.(undefined)
      if (answeredNobody()) return
      throw upstreamFailure(error, summary.cutBy === 'timeout' ? totalLimit : firstByteLimit)
    }

    const { statusCode, headers, body } = response
    recordUpstreamAnswer(summary, statusCode, reply.elapsedTime)
    const cacheResult = headers['x-cache']
    if (cacheResult === 'HIT' || cacheResult === 'MISS') summary.upstreamCache = cacheResult === 'HIT' ? 'hit' : 'miss'
    const refusal = await upstreamRefusal(response, call.refuse, hooks)
    if (refusal !== undefined) {
      done()
      throw refusal
    }

    if (call.rewriteJson !== undefined && statusCode === 200) {
      let parsed: unknown
      try {
        // Bounded: an endless upstream body must not grow the process (issue 11).
        parsed = JSON.parse(await readBoundedText(body, UPSTREAM_READ_LIMIT_BYTES))
      } catch (error) {
        done()
        if (answeredNobody()) return
        if (error instanceof UpstreamError) throw error
        throw error instanceof SyntaxError
          ? new UpstreamError({ cause: error })
          : upstreamFailure(error, summary.cutBy === 'timeout' ? totalLimit : firstByteLimit)
      }
      done()
      const rewritten = call.rewriteJson(parsed)
      // Our own body now: its length is the one Fastify computes, not upstream's.
      const kept = filterUpstreamResponseHeaders(headers)
      delete kept['content-length']
      delete kept['content-encoding']
      reply.code(200).headers(kept).send(rewritten)
      return
    }

    reply.hijack()
    const outgoing = { ...(reply.getHeaders() as OutgoingHttpHeaders), ...filterUpstreamResponseHeaders(headers) }
    const contentType = headers['content-type']
    const streaming = typeof contentType === 'string' && !contentType.startsWith('application/json')
    if (streaming) {
      // Intermediaries (nginx, CDNs) must pass events on as they come.
      outgoing['cache-control'] = 'no-cache, no-transform'
      outgoing['x-accel-buffering'] = 'no'
    } else {
      // Personal data: never stored by a shared cache, whatever upstream said (issue 11).
      outgoing['cache-control'] = PRIVATE_CACHE_CONTROL
      outgoing.vary = privateVary(outgoing.vary)
    }
    res.writeHead(statusCode, outgoing)
    // A stream's headers go out now, not with its first event: the browser learns it is open.
    if (streaming) res.flushHeaders()

    summary.bytesSent = 0
    const onDrain = () => body.resume()
    res.on('drain', onDrain)
    // Whole events only, so that an error event after a cut starts on a fresh boundary.
    // Not `call` itself in the listeners below: it holds the request body, megabytes for a long chat.
    const mode = call.mode ?? (streaming ? call.modeFor?.(contentType as string) : undefined)
    const events = streaming && mode !== undefined ? eventBoundary(mode) : undefined
    const rewrite = events === undefined ? undefined : call.rewriteEvents
    const onUsage = call.onUsage
    const tap = onUsage === undefined || statusCode !== 200 ? undefined : usageTap(events !== undefined ? mode! : 'json')
    if (summary.upstreamCache === 'hit') tap?.cacheHit()
    const observe = events === undefined ? undefined : call.observeEvents
    const trailer = events === undefined || statusCode !== 200 ? undefined : call.trailer
    let trailerWritten = false
    /** The trailer, once: `out` minus its end marker, the trailer, the marker (or `out` as it is). */
    const withTrailer = (out: Buffer, atEnd: boolean): Buffer => {
      if (trailer === undefined || trailerWritten) return out
      const marked = out.length >= DONE.length && out.subarray(out.length - DONE.length).equals(DONE)
      if (!marked && !atEnd) return out
      trailerWritten = true
      const event = trailer(tap?.end())
      if (event === undefined) return out
      return marked ? Buffer.concat([out.subarray(0, out.length - DONE.length), Buffer.from(event), DONE]) : Buffer.concat([out, Buffer.from(event)])
    }
    let usageSettled = false
    /** Once, whatever ends the answer: before the summary's own 'close' listener writes the line. */
    const settleUsage = () => {
      if (usageSettled || tap === undefined) return
      usageSettled = true
      onUsage!(tap.end())
    }
    // Ahead of onClientGone too (prepended later): a response closed unfinished was cut by the client.
    if (tap !== undefined) {
      res.prependOnceListener('close', () => {
        if (!res.writableFinished) recordCut(summary, 'client')
        settleUsage()
      })
    }
    body.on('data', (chunk: Buffer) => {
      let out = events === undefined ? chunk : events.push(chunk)
      if (out === undefined) return
      tap?.push(out)
      observe?.(out)
      if (rewrite !== undefined) out = rewrite(out)
      out = withTrailer(out, false)
      if (summary.bytesSent === 0) summary.firstByteAtMs = reply.elapsedTime
      summary.bytesSent! += out.length
      if (!res.write(out)) body.pause()
    })
    body.once('end', () => {
      done()
      res.off('drain', onDrain)
      let rest = events?.flush()
      if (rest !== undefined) {
        tap?.push(rest)
        observe?.(rest)
      }
      settleUsage()
      if (rest !== undefined && rewrite !== undefined) rest = rewrite(rest)
      // A stream that ended without its end marker still gets the trailer, on a fresh event boundary.
      if (trailer !== undefined && !trailerWritten) rest = withTrailer(rest ?? Buffer.from(events?.separator() ?? ''), true)
      if (rest !== undefined) summary.bytesSent! += rest.length
      res.end(rest)
    })
    body.once('error', (error: Error) => {
      done()
      res.off('drain', onDrain)
      if (summary.cutBy === 'client' || res.destroyed) return
      recordBrokenStream(summary, isTimeout(error) ? 'timeout' : 'upstream', error)
      const last = streaming ? streamErrorEvent(mode) : undefined
      if (last === undefined) {
        // No way to say it in-band: break the connection so the client cannot mistake it for the end.
        res.destroy()
      } else {
        res.end((events?.separator() ?? '') + last)
      }
    })
  }

  async function request(call: Omit<UpstreamCall, 'mode' | 'modeFor' | 'refuse'>): Promise<UpstreamAnswer> {
    let response: Dispatcher.ResponseData
    let text: string
    try {
      response = await send(call, AbortSignal.timeout(config.firstByteTimeoutMs))
      // Bounded, and a timeout while the body arrives is a 504 like one before it (issue 11).
      text = await readBoundedText(response.body, UPSTREAM_READ_LIMIT_BYTES)
    } catch (error) {
      if (error instanceof UpstreamError) throw error
      throw upstreamFailure(error, firstByteLimit)
    }
    // 5xx, 401/403 and 429 mean the same here as on a streamed call (never "not found"); the cause says what upstream answered.
    const { statusCode } = response
    const refusal = statusCode < 400 ? undefined : credentialOrBudgetError(statusCode, response.headers, hooks, new Error(`upstream answered ${statusCode}`))
    if (refusal !== undefined) throw refusal
    let body: unknown
    try {
      body = text.length === 0 ? undefined : JSON.parse(text)
    } catch {
      body = undefined
    }
    return { statusCode, body }
  }

  return { forward, request }
}

function isTimeout(error: unknown): boolean {
  const code = (error as { code?: string }).code
  return code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT'
}

/** A call that got no answer: 504 when a deadline ran out (or aborted it), else 502 unreachable. */
function upstreamFailure(error: unknown, timeoutDetail: string): Error {
  const code = (error as { code?: string }).code
  const name = (error as Error).name
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new UpstreamTimeout('connecting took too long', { cause: error })
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_ABORTED' || name === 'TimeoutError' || name === 'AbortError') {
    return new UpstreamTimeout(timeoutDetail, { cause: error })
  }
  return new UpstreamUnavailable({ cause: error })
}
