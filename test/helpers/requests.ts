import { connect } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import type { Dispatcher } from 'undici'
import { AGENT_ID, completionBody, sessionToken } from './fixtures.js'

export interface CompletionRequest {
  readonly gatewayUrl: string
  readonly dispatcher: Dispatcher
  readonly user?: string
  readonly mode?: string
  readonly agentId?: string
  readonly query?: string
  readonly body?: unknown
  readonly headers?: Record<string, string>
  readonly signal?: AbortSignal
}

/** POSTs a completion as a signed-in user (bearer session unless headers say otherwise). */
export async function postCompletion(options: CompletionRequest) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers }
  if (options.user !== undefined) headers.authorization = `Bearer ${await sessionToken(options.user)}`
  const query = options.query ?? `compatibilityMode=${options.mode ?? 'ai-sdk-5'}`
  return request(`${options.gatewayUrl}/agent-studio/1/agents/${options.agentId ?? AGENT_ID}/completions?${query}`, {
    method: 'POST',
    dispatcher: options.dispatcher,
    headers,
    body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body ?? completionBody()),
    ...(options.signal === undefined ? {} : { signal: options.signal })
  })
}

/** Resolves on the next `event` of `emitter`, or rejects after `ms` so a broken gateway fails instead of hanging. */
export function nextEvent<T>(emitter: { once(event: string, listener: (value: T) => void): unknown }, event: string, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms)
    emitter.once(event, (value: T) => {
      clearTimeout(timer)
      resolve(value)
    })
  })
}

/** Polls a condition on the event loop (no fixed sleep): resolves as soon as it holds. */
export async function waitFor(condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Raw HTTP over a socket: nothing between the test and the gateway normalises the headers. */
export function rawRequest(url: string, head: string, body: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`${head}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
    })
    let answer = ''
    socket.on('data', (chunk) => (answer += chunk.toString()))
    socket.on('end', () => resolve(answer))
    socket.on('error', reject)
  })
}

/** A non-streamed completion as a signed-in user, through app.inject (no socket). */
export async function injectCompletion(gateway: { readonly app: FastifyInstance }, user: string) {
  return gateway.app.inject({
    method: 'POST',
    url: `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await sessionToken(user)}` },
    payload: completionBody()
  })
}
