import type { FastifyReply, FastifyRequest } from 'fastify'
import { ForbiddenField, PayloadTooLarge } from '../../errors.js'
import type { LimitHook } from '../../limits/request-limits.js'
import { assertMessageCount, MESSAGES_CEILING } from '../../policy/message-limits.js'
import { allowedToolParts } from '../../policy/tool-parts.js'
import type { AgentStudioRouteContext, RouteImplementation } from './route-context.js'

/**
 * Long chats (issue 23, item 7), with Agent Studio's context operations
 * (specs/agent-studio/paths/context/contextTrim.yml, contextCompact.yml; x-acl search).
 *
 * Trim (CONTEXT_TRIM, off by default): a completion whose history is over MAX_MESSAGES, or
 * whose body is over BODY_LIMIT_BYTES (up to CONTEXT_TRIM_BODY_LIMIT_BYTES), is first sent to
 * `POST /1/unstable/context/trim` ("Deterministically trim a conversation payload (no LLM
 * calls)") to keep the last MAX_MESSAGES messages, and, for a body too large, to drop tool
 * parts (search results are most of a long chat's bytes) and fit a token estimate. The cost is
 * one more upstream call, counted like any other: the deployment's upstream budget and the
 * user's own request limit (`trimAdmission`, the one call site, below). What comes back is then
 * checked like the browser's own history; a trim that fails or does not shorten enough leaves
 * the usual refusal.
 *
 * Compact (COMPACT_PROVIDER_ID + COMPACT_MODEL, off by default): `POST /1/unstable/context/compact`
 * summarises with a provider and model the caller picks, billed to the application. The browser
 * gets `POST /agent-studio/1/context/compact` with the spec's other fields only: sending
 * `providerID` or `model` is refused; the gateway adds the pinned ones. Each user has a daily
 * allowance (limits.routes.compact, default 5 a day).
 */

export interface TrimResult {
  readonly messages: Array<{ role: string; [field: string]: unknown }>
}

export type ContextTrimmer = (request: FastifyRequest, reply: FastifyReply, messages: TrimResult['messages']) => Promise<TrimResult['messages']>

/** A trimmer for the completions route, or undefined when CONTEXT_TRIM is off. */
export function buildContextTrimmer(options: AgentStudioRouteContext): ContextTrimmer | undefined {
  const { config, credentials, upstream, limiters, agents } = options
  const { contextTrim, maxMessages, bodyLimitBytes } = config.policy
  if (!contextTrim) return undefined
  // THE call site that counts a trim as an upstream call (issue 23): the limiter's own hook,
  // with no route of its own, so it spends the deployment's upstream budget and the user's limit.
  const trimAdmission: LimitHook = limiters.forRoute(undefined)

  return async function trimIfTooLong(request, reply, messages) {
    const size = Buffer.byteLength(JSON.stringify(messages))
    const tooMany = messages.length > maxMessages
    const tooLarge = size > bodyLimitBytes
    if (!tooMany && !tooLarge) return messages
    await trimAdmission(request, reply)
    const agentId = (request.params as { agentId: string }).agentId
    const answer = await upstream.request({
      method: 'POST',
      path: '/1/unstable/context/trim',
      headers: await credentials.headersFor(request, { userToken: true, jsonBody: true, origin: agents.upstreamOriginFor(agentId) }),
      body: JSON.stringify({
        messages,
        keepLastMessages: Math.min(messages.length, maxMessages),
        ...(tooLarge ? { dropToolParts: true, maxTokensEstimate: Math.floor(bodyLimitBytes / 4) } : {})
      })
    })
    const trimmed = (answer.body as { messages?: unknown } | undefined)?.messages
    // Only a history of user and assistant messages comes back in place of the browser's; the
    // body policy then checks it like the browser's own (roles, tool parts, MAX_MESSAGES).
    // An empty history (the budget dropped even the question) is no answer to ask for.
    const usable =
      answer.statusCode === 200 &&
      Array.isArray(trimmed) &&
      trimmed.length > 0 &&
      trimmed.length <= MESSAGES_CEILING &&
      trimmed.every(
        (message: { role?: unknown } | null) => message !== null && typeof message === 'object' && (message.role === 'user' || message.role === 'assistant')
      )
    request.summary.contextTrimmed = usable ? 'trimmed' : 'failed'
    const result = usable ? (trimmed as TrimResult['messages']) : messages
    if (Buffer.byteLength(JSON.stringify(result)) > bodyLimitBytes)
      throw new PayloadTooLarge(`${bodyLimitBytes} bytes (BODY_LIMIT_BYTES)${usable ? ', even after trimming' : ''}`)
    return result
  }
}

interface CompactBody {
  messages: Array<{ role: string; [field: string]: unknown }>
  keepLastMessages?: number
  instructions?: string
  targetTokensEstimate?: number
  providerID?: unknown
  model?: unknown
}

async function refuseChosenModel(request: FastifyRequest): Promise<void> {
  const body = request.body as CompactBody
  if (body.providerID !== undefined || body.model !== undefined) {
    throw new ForbiddenField(
      `"${body.providerID !== undefined ? 'providerID' : 'model'}" (the provider and model that summarise are billed to the application and pinned by ops: COMPACT_PROVIDER_ID, COMPACT_MODEL)`
    )
  }
}

/**
 * `POST /agent-studio/1/context/compact`, registered only with a pinned provider and model (the
 * route table's COMPACT_MODEL switch). The allowance is for summaries: it is spent only by a
 * request that will be sent (valid, no provider or model of its own), so a malformed one does
 * not use up the user's day (the route table's `admitAfterValidation`, after these checks).
 */
export function compact(options: AgentStudioRouteContext): RouteImplementation {
  const { config, credentials, upstream, agents } = options
  const { compactProviderId, compactModel } = config.policy
  return {
    checks: [refuseChosenModel],
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['messages'],
        properties: {
          messages: {
            type: 'array',
            minItems: 1,
            maxItems: MESSAGES_CEILING,
            items: { type: 'object', required: ['role'], properties: { role: { type: 'string', enum: ['user', 'assistant'] } } }
          },
          keepLastMessages: { type: 'integer', minimum: 0, maximum: MESSAGES_CEILING },
          instructions: { type: 'string', maxLength: 2000 },
          targetTokensEstimate: { type: 'integer', minimum: 64, maximum: 100_000 },
          // Named so that sending them is `forbidden_field`, not a generic schema error.
          providerID: {},
          model: {}
        }
      }
    },
    handler: async (request: FastifyRequest<{ Body: CompactBody }>, reply: FastifyReply) => {
      const body = request.body
      assertMessageCount(body.messages.length, config.policy)
      const forwarded: Record<string, unknown> = { providerID: compactProviderId, model: compactModel, messages: allowedToolParts(body.messages) }
      if (body.keepLastMessages !== undefined) forwarded.keepLastMessages = body.keepLastMessages
      // `instructions` go inside Agent Studio's own prompt frame (ContextCompactRequest); bounded by the spec's 2000.
      if (body.instructions !== undefined) forwarded.instructions = body.instructions
      if (body.targetTokensEstimate !== undefined) forwarded.targetTokensEstimate = body.targetTokensEstimate
      await upstream.forward(request, reply, {
        method: 'POST',
        path: '/1/unstable/context/compact',
        headers: await credentials.headersFor(request, { userToken: true, jsonBody: true, origin: agents.upstreamOriginFor(undefined) }),
        body: JSON.stringify(forwarded)
      })
    }
  }
}
