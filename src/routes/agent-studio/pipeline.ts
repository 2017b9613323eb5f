import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler, onRequestHookHandler, preHandlerAsyncHookHandler } from 'fastify'
import type { RouteSpec } from '../../config/route-table.js'
import { InvalidId } from '../../errors.js'
import type { RequestLimiters } from '../../limits/request-limits.js'
import { buildAgentHook } from '../../policy/agent-policy.js'
import { INVALID_CONVERSATION_ID_MESSAGE, MAX_CLIENT_CONVERSATION_ID_LENGTH, isClientConversationId } from '../../policy/conversation-namespace.js'
import { requireJson } from '../../policy/require-json.js'
import type { PolicyConfig } from '../../config/types.js'

/**
 * The order every Agent Studio route runs its checks in, whatever the route: the data flows
 * one way, request → session → policy → limits → credentials → upstream. A route runs the
 * steps that apply to it (an id check only with that id in its path), never in another order;
 * test/routes/pipeline.test.ts reads Fastify's own hook listing and pins it.
 *
 * - `session` (the scope's onRequest, index.ts): who is asking; refused sessions are counted
 *   per address there (the limiter's failed-authentication phase).
 * - `agentFromPath`, `conversationFromPath`, `chatFromPath`: the path's ids, by shape and the
 *   agent allow-list, before anything is spent on them.
 * - `admission`: every per-user, per-route, stream and budget check in one question to the
 *   store (src/limits/admission.ts), the limiter's one place for a signed-in request. It is
 *   asked here and answered by `admitted`, the first step once the body is read: the Redis round
 *   trip overlaps reading and parsing the body instead of coming before it (issue 26). Nothing
 *   else changes: no upstream call is made before the answer, and a request refused both by the
 *   limits and for its body gets the limits' refusal (the error handler waits for it).
 * - `requireJson`: 415 before a byte of the body is read.
 * Then Fastify reads the body, `admitted` waits for the limits' answer, Fastify validates the
 * body, the route's own `preHandler` checks it, and the handler asks the credentials for its
 * headers and calls upstream.
 */
export const PIPELINE = ['session', 'agentFromPath', 'conversationFromPath', 'chatFromPath', 'admission', 'requireJson', 'admitted'] as const

declare module 'fastify' {
  interface FastifyRequest {
    /** The limits' answer, while `admission` has asked and `admitted` not yet returned (src/error-handler.ts waits for it). */
    admission: Promise<unknown> | undefined
  }
}

/** Asks the limits now and lets the request go on (its body is read meanwhile); `admitted` waits for the answer. */
function askAdmission(admit: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>): onRequestHookHandler {
  return function admission(request, reply, done) {
    const answer = admit(request, reply)
    // Awaited by `admitted` or by the error handler; never left unhandled when neither runs (the client left).
    answer.catch(() => undefined)
    request.admission = answer
    done()
  }
}

async function admitted(request: FastifyRequest): Promise<void> {
  await request.admission
  // Admitted: what fails from now on is answered as itself.
  request.admission = undefined
}

type Hook = onRequestAsyncHookHandler

const CHAT_ID_MESSAGE = `chat id is not valid: ids are 1 to ${MAX_CLIENT_CONVERSATION_ID_LENGTH} letters, digits, "-" or "_", starting with a letter or digit`

async function conversationFromPath(request: FastifyRequest): Promise<void> {
  if (!isClientConversationId((request.params as { conversationId?: unknown }).conversationId)) throw new InvalidId(INVALID_CONVERSATION_ID_MESSAGE)
}

/** The AI SDK's chat id is the browser's conversation id: the same rule as everywhere else. */
async function chatFromPath(request: FastifyRequest): Promise<void> {
  if (!isClientConversationId((request.params as { chatId?: unknown }).chatId)) throw new InvalidId(CHAT_ID_MESSAGE)
}

export interface RouteHooks {
  readonly onRequest: Array<Hook | onRequestHookHandler>
  readonly preValidation: Hook[]
  readonly preHandler: preHandlerAsyncHookHandler[]
}

/** The pipeline's steps for one route of the table, in PIPELINE's order (after the scope's `session`). */
export function routeHooks(
  route: RouteSpec,
  policy: PolicyConfig,
  limiters: RequestLimiters,
  routeChecks: readonly preHandlerAsyncHookHandler[] = []
): RouteHooks {
  const stream =
    route.stream === 'always'
      ? true
      : route.stream === 'when-asked'
        ? (request: FastifyRequest) => (request.query as { stream?: unknown }).stream === 'true'
        : false
  const admission = limiters.forRoute(route.group ?? undefined, { stream, upstream: route.callsUpstream }) as Hook
  const onRequest: Array<Hook | onRequestHookHandler> = []
  if (route.params.includes('agentId')) onRequest.push(buildAgentHook(policy) as Hook)
  if (route.params.includes('conversationId')) onRequest.push(conversationFromPath)
  if (route.params.includes('chatId')) onRequest.push(chatFromPath)
  const admitAfterValidation = 'admitAfterValidation' in route && route.admitAfterValidation === true
  if (!admitAfterValidation) onRequest.push(askAdmission(admission))
  if (route.body === 'json') onRequest.push(requireJson as Hook)
  return {
    onRequest,
    preValidation: admitAfterValidation ? [] : [admitted as Hook],
    preHandler: [...routeChecks, ...(admitAfterValidation ? [admission as (request: FastifyRequest, reply: FastifyReply) => Promise<void>] : [])]
  }
}
