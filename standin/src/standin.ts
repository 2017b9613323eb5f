import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { IncomingHttpHeaders } from 'node:http'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { COMPATIBILITY_MODES } from './compatibility-modes.js'
import type { CompatibilityMode } from './compatibility-modes.js'
import { STREAM_HEADERS, renderJson, renderStream } from './answer-stream.js'
import type { RunIds } from './answer-stream.js'
import { answerText, lastUserText, planAnswer } from './answer-plan.js'
import { ResponseCache, cacheKey } from './response-cache.js'
import { taskRoutes } from './tasks.js'
import { ConversationStore } from './conversation-store.js'
import { conversationRoutes } from './conversations.js'
import { checkUserToken } from './user-token-check.js'
import { keyRoutes, verifySecuredApiKey } from './keys.js'
import type { KeyOptions } from './keys.js'
import { countEveryRequest } from './request-counter.js'
import { approvedDomainRefusal } from './approved-domains.js'
import { partProblems } from './message-validation.js'
import { contextRoutes } from './context.js'
import type { VerifiedUserToken } from './user-token-check.js'
import { createRequestBudget } from './request-budget.js'
import type { RequestBudgetOptions } from './request-budget.js'

/**
 * A small stand-in for Algolia Agent Studio, for tests and the demo. It checks what the real
 * API checks for the routes the gateway uses (app id, API key, user token signature, `kid`,
 * `sub`, expiry), streams realistic answers in each compatibility mode, records what it
 * received, and can be told to fail.
 */

export type Fault =
  | { readonly kind: 'status'; readonly status: number }
  /** Accept the request and never answer. */
  | { readonly kind: 'hang' }
  /** Destroy the connection after this many events (with `midEvent`, after half of the next one). */
  | { readonly kind: 'cut'; readonly afterEvents: number; readonly midEvent?: boolean }
  /** Stop sending after this many events, keeping the connection open. */
  | { readonly kind: 'stall'; readonly afterEvents: number }

export interface ReceivedRequest {
  readonly method: string
  readonly path: string
  readonly query: Record<string, string>
  readonly headers: IncomingHttpHeaders
  readonly body: unknown
  readonly userToken: VerifiedUserToken | undefined
  /** When the API key was a Secured API Key: its verified restrictions. */
  readonly securedKeyRestrictions: Record<string, string> | undefined
}

export interface StreamClosed {
  readonly agentId: string
  /** True when the connection closed before the answer was complete. */
  readonly early: boolean
  /** `performance.now()` when the stand-in saw its socket close. */
  readonly at: number
}

export interface StandInOptions extends KeyOptions {
  /** Authentication keys: `kid` → secret. */
  readonly authenticationKeys: ReadonlyMap<string, string>
  /** Agents that exist; others answer 404. Absent: every agent exists. */
  readonly agents?: readonly string[]
  /** Milliseconds between streamed events. */
  readonly paceMs?: number
  /** Parent keys whose Secured API Keys are accepted (AGENT_TENANT_ISOLATION): their restrictions are recorded. */
  readonly acceptSecuredKeysFrom?: readonly string[]
  /**
   * Answers a request instead of the stand-in when it returns something (tests use it to make
   * one upstream call fail, e.g. one conversation DELETE during an erasure).
   */
  readonly intercept?: (request: {
    readonly method: string
    readonly url: string
  }) => { readonly status: number; readonly body: unknown; readonly headers?: Readonly<Record<string, string>> } | undefined
  /** Extra headers on every completion answer (tests use them to check what the gateway lets through). */
  readonly responseHeaders?: Readonly<Record<string, string>>
  /** Approved domains per agent (docs "Approved domains"): a non-empty list refuses completions and tasks from anywhere else with 403. */
  readonly approvedDomains?: ReadonlyMap<string, readonly string[]>
  /** How a streamed task answers: `text` (the published spec: raw partial JSON text, default) or `sse` (newer: `data-task-output` events). */
  readonly taskStream?: 'text' | 'sse'
  /** Agent Studio's per-application request budget (429 with retry-after beyond it); absent: unlimited. */
  readonly requestBudget?: RequestBudgetOptions
  readonly logger?: boolean
}

export interface StandIn {
  readonly app: FastifyInstance
  readonly received: ReceivedRequest[]
  /** Conversations, feedback and deletions, per owner. */
  readonly store: ConversationStore
  readonly events: EventEmitter<{ 'stream-closed': [StreamClosed]; request: [ReceivedRequest] }>
  /** Every later request fails this way until cleared with null. */
  setFault(fault: Fault | null): void
  /** Called before each streamed event is written; tests use it to hold the stream. */
  setBeforeEvent(hook: ((index: number) => Promise<void> | void) | null): void
  /** Number of answers being streamed right now. */
  openStreams(): number
  /** Every `context/compact` that summarised (and so was billed): who chose the provider and model. */
  readonly compactions: ReadonlyArray<{ readonly providerID: string; readonly model: string }>
  /** Listens on 127.0.0.1 (port 0 unless given) and returns the Agent Studio base URL. */
  listen(port?: number): Promise<URL>
  close(): Promise<void>
}

export function createStandIn(options: StandInOptions): StandIn {
  // Conversation ids are up to 128 characters in Agent Studio (completion request `id`); Fastify's
  // default 100-character parameter limit would answer 414 where the real service does not.
  const app = Fastify({ logger: options.logger ?? false, forceCloseConnections: true, routerOptions: { maxParamLength: 256 } })
  countEveryRequest(app)
  const received: ReceivedRequest[] = []
  const events = new EventEmitter<{ 'stream-closed': [StreamClosed]; request: [ReceivedRequest] }>()
  let fault: Fault | null = null
  let beforeEvent: ((index: number) => Promise<void> | void) | null = null
  let open = 0
  const paceMs = options.paceMs ?? 0
  const agents = options.agents === undefined ? undefined : new Set(options.agents)
  const agentExists = (agentId: string) => agents === undefined || agents.has(agentId)
  const store = new ConversationStore()
  const securedKeyRestrictions = new WeakMap<FastifyRequest, Record<string, string>>()
  const cache = new ResponseCache()
  const compactions: Array<{ providerID: string; model: string }> = []
  const budget = options.requestBudget === undefined ? undefined : createRequestBudget(options.requestBudget)

  const intercept = options.intercept
  if (intercept !== undefined) {
    app.addHook('onRequest', async (request, reply) => {
      const answer = intercept({ method: request.method, url: request.url })
      if (answer !== undefined)
        return reply
          .code(answer.status)
          .headers(answer.headers ?? {})
          .send(answer.body)
    })
  }

  /**
   * Algolia's own checks: 401 for a wrong app id or API key, 403 for a key without the ACL the
   * route needs, 401 for a bad user token (Algolia's Agent Studio authentication docs; the
   * spec's `x-acl` on each path names the ACL).
   */
  async function authorize(request: FastifyRequest, reply: FastifyReply, acl: string): Promise<VerifiedUserToken | undefined | false> {
    const wait = budget?.take()
    if (wait !== undefined) {
      reply.code(429).header('retry-after', String(wait)).send({ message: 'Too many requests', status: 429 })
      return false
    }
    const headers = request.headers
    const presented = String(headers['x-algolia-api-key'])
    const secured = verifySecuredApiKey(presented, options.acceptSecuredKeysFrom ?? [])
    if (secured !== undefined) securedKeyRestrictions.set(request, secured.restrictions)
    const acls = options.apiKeys.get(secured?.parentKey ?? presented)
    if (headers['x-algolia-application-id'] !== options.appId || acls === undefined) {
      reply.code(401).send({ message: 'Invalid Application-ID or API key', status: 401 })
      return false
    }
    if (!acls.includes(acl)) {
      reply.code(403).send({ message: `Method not allowed with this API key: requires ${acl}`, status: 403 })
      return false
    }
    const token = headers['x-algolia-secure-user-token']
    if (token === undefined) return undefined
    const check = await checkUserToken(String(token), options.authenticationKeys)
    if (!check.ok) {
      reply.code(401).send({ message: check.message, status: 401 })
      return false
    }
    return check.token
  }

  function record(request: FastifyRequest, userToken: VerifiedUserToken | undefined): ReceivedRequest {
    const url = new URL(request.url, 'http://stand-in')
    const entry: ReceivedRequest = {
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: request.headers,
      body: request.body,
      userToken,
      securedKeyRestrictions: securedKeyRestrictions.get(request)
    }
    received.push(entry)
    events.emit('request', entry)
    return entry
  }

  app.post<{ Params: { agentId: string }; Querystring: Record<string, string> }>('/agent-studio/1/agents/:agentId/completions', async (request, reply) => {
    const userToken = await authorize(request, reply, 'search')
    if (userToken === false) return reply
    record(request, userToken)
    const { agentId } = request.params
    if (!agentExists(agentId)) return reply.code(404).send({ message: `Agent ${agentId} not found`, status: 404 })
    // Before the body is read: an unapproved origin learns nothing about the agent's inputs.
    const refusedOrigin = approvedDomainRefusal(request.headers, options.approvedDomains?.get(agentId))
    if (refusedOrigin !== undefined) return reply.code(403).send({ message: refusedOrigin, status: 403 })
    const mode = request.query.compatibilityMode
    if (!COMPATIBILITY_MODES.includes(mode as CompatibilityMode)) {
      return reply.code(422).send({
        detail: [{ loc: ['query', 'compatibilityMode'], msg: `Input should be ${COMPATIBILITY_MODES.map((m) => `'${m}'`).join(', ')}`, type: 'enum' }]
      })
    }
    const body = request.body as { messages?: unknown; threadId?: unknown; runId?: unknown } | undefined
    if (!Array.isArray(body?.messages) || body.messages.length === 0) {
      return reply.code(422).send({ detail: [{ loc: ['body', 'messages'], msg: 'Field required', type: 'missing' }] })
    }
    const invalidParts = mode === 'ai-sdk-5' ? partProblems(body.messages) : []
    if (invalidParts.length > 0) return reply.code(422).send({ detail: invalidParts })
    if (mode === 'ag-ui' && (typeof body.threadId !== 'string' || typeof body.runId !== 'string')) {
      // AguiCompletionRequest: threadId and runId are required.
      return reply
        .code(422)
        .send({ detail: [{ loc: ['body', typeof body.threadId !== 'string' ? 'threadId' : 'runId'], msg: 'Field required', type: 'missing' }] })
    }
    const question = lastUserText(body.messages)
    const conversationId = (body as { id?: unknown }).id
    // Persisted like Agent Studio does: the request names a conversation and every message has an id.
    const persisted = store.recordRequest(agentId, conversationId, userToken?.sub, body.messages, (message) => lastUserText([message]))
    const active = fault ?? faultFromPrompt(question)
    if (active?.kind === 'status') return reply.code(active.status).send(faultBody(active.status))
    if (active?.kind === 'hang') {
      reply.hijack()
      reply.raw.once('close', () => events.emit('stream-closed', { agentId, early: true, at: performance.now() }))
      return reply
    }
    const stream = request.query.stream !== 'false'
    // Memory loads at a conversation's start, per user only with a secure user token (docs "Memory").
    const memory =
      request.query.memory !== 'false' && userToken !== undefined && body.messages.length === 1 ? store.memories.get(userToken.sub)?.join('; ') : undefined
    const { plan: answered, headers: cacheHeaders } = cache.answer(cacheKey(agentId, body.messages), request.query.cache !== 'false', () =>
      planAnswer(body.messages, `alg_msg_${randomUUID().replaceAll('-', '')}`, memory)
    )
    // An answer from the cache says so (MessageResponse.yml `isCacheHit`, issue 24): no LLM ran.
    const plan = cacheHeaders['x-cache'] === 'HIT' ? { ...answered, metadata: { ...answered.metadata, isCacheHit: true } } : answered
    const headers = { ...cacheHeaders, ...options.responseHeaders }
    // The assistant's answer joins the conversation once it is complete (a cut one is not stored).
    const storeAnswer = persisted
      ? () =>
          store.append(agentId, conversationId as string, userToken?.sub, { id: plan.messageId, role: 'assistant', text: answerText(plan), sentBy: undefined })
      : () => undefined
    if (!stream) {
      storeAnswer()
      return reply.headers(headers).send(renderJson(mode as CompatibilityMode, plan))
    }
    await streamAnswer(
      reply,
      agentId,
      STREAM_HEADERS[mode as CompatibilityMode],
      headers,
      renderStream(mode as CompatibilityMode, plan, runIds(body, plan.messageId)),
      active,
      storeAnswer
    )
    return reply
  })

  conversationRoutes(app, store, authorize, record, agentExists)
  contextRoutes(app, authorize, record, compactions)
  taskRoutes(
    app,
    authorize,
    record,
    agentExists,
    (agentId, headers) => approvedDomainRefusal(headers, options.approvedDomains?.get(agentId)),
    options.taskStream ?? 'text'
  )

  // For test harnesses in other processes: PUT a Fault (or null) to make every later request fail that way.
  app.put('/__standin/fault', async (request, reply) => {
    const next = request.body as Fault | null
    const valid = next === null || (typeof next === 'object' && ['status', 'hang', 'cut', 'stall'].includes((next as { kind?: string }).kind ?? ''))
    if (!valid) return reply.code(400).send({ message: 'send null or { "kind": "status" | "hang" | "cut" | "stall", "status"?, "afterEvents"? }' })
    fault = next
    return { fault }
  })
  keyRoutes(app, options)

  async function streamAnswer(
    reply: FastifyReply,
    agentId: string,
    protocolHeaders: Record<string, string>,
    headers: Record<string, string>,
    chunks: string[],
    active: Fault | null,
    onComplete: () => void
  ) {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { ...protocolHeaders, ...headers })
    open++
    let complete = false
    res.once('close', () => {
      open--
      events.emit('stream-closed', { agentId, early: !complete, at: performance.now() })
    })
    for (let index = 0; index < chunks.length; index++) {
      if (res.destroyed) return
      if (active?.kind === 'cut' && index === active.afterEvents) {
        // The break once every event before it (and, with midEvent, half of this one) reached the
        // socket: Node corks a response's writes until the next tick, so destroying at once would
        // throw away the events the fault promises to deliver (a client saw none of them).
        const half = active.midEvent === true ? chunks[index]!.slice(0, Math.ceil(chunks[index]!.length / 2)) : ''
        res.write(half, () => res.destroy())
        return
      }
      if (active?.kind === 'stall' && index === active.afterEvents) return
      if (beforeEvent !== null) await beforeEvent(index)
      if (paceMs > 0 && index > 0) await new Promise((resolve) => setTimeout(resolve, paceMs))
      if (res.destroyed) return
      res.write(chunks[index])
    }
    complete = true
    onComplete()
    res.end()
  }

  return {
    app,
    received,
    store,
    events,
    setFault: (next) => {
      fault = next
    },
    setBeforeEvent: (hook) => {
      beforeEvent = hook
    },
    openStreams: () => open,
    compactions,
    async listen(port = 0) {
      const address = await app.listen({ host: '127.0.0.1', port })
      return new URL(`${address}/agent-studio`)
    },
    close: () => app.close()
  }
}

/** AG-UI runs echo the request's ids (AguiCompletionRequest: `threadId`, `runId` required). */
function runIds(body: { threadId?: unknown; runId?: unknown }, messageId: string): RunIds {
  return {
    threadId: typeof body.threadId === 'string' ? body.threadId : `thread_${messageId}`,
    runId: typeof body.runId === 'string' ? body.runId : `run_${messageId}`
  }
}

function faultBody(status: number) {
  // FastAPI's validation error shape (the spec's HTTPValidationError): pydantic also echoes `input` and `ctx`.
  if (status === 422)
    return {
      detail: [
        {
          loc: ['body', 'messages', 0],
          msg: 'Invalid message',
          type: 'value_error',
          input: { role: 'user', content: 'echoed request data' },
          ctx: { error: 'internal detail' }
        }
      ]
    }
  return { message: status >= 500 ? 'Internal server error' : 'Request failed', status }
}

/** Lets a person try failures from the demo chat box. */
function faultFromPrompt(question: string): Fault | null {
  if (question.includes('[fail]')) return { kind: 'status', status: 500 }
  if (question.includes('[cut]')) return { kind: 'cut', afterEvents: 6 }
  if (question.includes('[hang]')) return { kind: 'hang' }
  return null
}
