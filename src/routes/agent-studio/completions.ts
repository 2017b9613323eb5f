import type { FastifyReply, FastifyRequest } from 'fastify'
import { buildCompletionBodyPolicy, completionBodySchema } from '../../policy/completion-body.js'
import type { CompletionBody } from '../../policy/completion-body.js'
import { buildCompletionQueryPolicy } from '../../policy/completion-query.js'
import { conversationNamespace } from '../../policy/conversation-namespace.js'
import { assertBodyMatchesMode, buildAgUiBodyPolicy, completionRequestSchema } from '../../policy/ag-ui-body.js'
import type { AgUiBody } from '../../policy/ag-ui-body.js'
import { replaceId } from '../../upstream/rewrite-events.js'
import { cacheVerdict } from '../../policy/cache-safety.js'
import { buildContextTrimmer } from './long-chats.js'
import { entryPointLabel } from '../../credentials/header-boundary.js'
import { approvalDecisions } from '../../approvals/approvals.js'
import { budgetTrailer } from '../../usage/budget-trailer.js'
import type { AgentStudioRouteContext, RouteImplementation } from './route-context.js'

interface CompletionRoute {
  Params: { agentId: string }
  Querystring: Record<string, unknown>
  Body: CompletionBody
}

/**
 * `POST /agent-studio/1/agents/:agentId/completions`: the chat itself, streamed back. The stream
 * slot is taken by `admission` (the route table's `stream: 'always'`), with every other limit
 * in one question, and held until the response closes, whatever closes it (end, error, abort).
 */
export function completion(options: AgentStudioRouteContext): RouteImplementation {
  const { config, credentials, upstream, agents } = options
  const queryPolicy = buildCompletionQueryPolicy(config.policy)
  const bodyPolicy = buildCompletionBodyPolicy(config.policy)
  const agUiBodyPolicy = buildAgUiBodyPolicy(config.policy)

  // CONTEXT_TRIM: an over-long chat is trimmed by Agent Studio rather than refused (long-chats.ts).
  const trim = buildContextTrimmer(options)

  return {
    ...(trim === undefined ? {} : { bodyLimit: config.policy.contextTrimBodyLimitBytes, config: { bodyLimitSetting: 'CONTEXT_TRIM_BODY_LIMIT_BYTES' } }),
    schema: { body: completionRequestSchema(config.policy, completionBodySchema(config.policy)) },
    handler: async (request: FastifyRequest<CompletionRoute>, reply: FastifyReply) => {
      const agentSettings = agents.settingsFor(request.params.agentId)
      // Issue 23: whether this answer may use Agent Studio's shared cache (cache-safety.ts).
      const cache = cacheVerdict(agentSettings.cache, {
        messages: request.body.messages,
        algolia: request.body.threadId === undefined ? request.body.algolia : (request.body as unknown as AgUiBody).forwardedProps?.algolia
      })
      const { mode, upstreamQuery } = queryPolicy(request.query, request.body.trigger, cache)
      request.summary.upstreamCacheAsked = upstreamQuery.includes('&cache=true')
      const entryPoint = entryPointLabel(request.headers['x-algolia-referer'])
      if (entryPoint !== undefined) request.summary.entryPoint = entryPoint
      assertBodyMatchesMode(mode === 'ag-ui', request.body)
      if (trim !== undefined && mode !== 'ag-ui') request.body.messages = await trim(request, reply, request.body.messages)
      // A conversation id (AG-UI: the thread id) is mapped into the caller's namespace: nobody
      // can continue (or read back through memory) someone else's conversation, and no lookup
      // is needed to know it.
      const namespace = conversationNamespace(request.user.id)
      const body = mode === 'ag-ui' ? agUiBodyPolicy(request.body as unknown as AgUiBody, namespace) : bodyPolicy(request.body, namespace)
      // The browser sees its own thread id in the run's events, never the upstream one.
      const rewriteEvents = mode === 'ag-ui' ? replaceId(String(body.threadId), String(request.body.threadId)) : undefined
      // Issue 24: the approvals this request answers must match a binding the gateway issued (src/approvals/).
      const conversationId = String((mode === 'ag-ui' ? request.body.threadId : request.body.id) ?? '')
      const forwarded = mode === 'ag-ui' ? (request.body as unknown as AgUiBody).forwardedProps : undefined
      const decisions = approvalDecisions(request.body.messages, forwarded === undefined ? request.body.toolApprovals : forwarded.toolApprovals)
      if (decisions.length > 0) await options.approvals.check(request, request.params.agentId, conversationId, decisions)
      // agentKey: with AGENT_TENANT_ISOLATION, the agent's own searches get the user's restrictions too.
      const headers = await credentials.headersFor(request, {
        userToken: true,
        jsonBody: true,
        agentKey: true,
        origin: agents.upstreamOriginFor(request.params.agentId)
      })
      const upstreamBody = JSON.stringify(body)
      // A long chat's parsed history is megabytes; a stream lives for minutes. Let it go now,
      // so memory per open stream does not grow with the chat's length (issue 10, long chats).
      request.body = undefined as never
      await upstream.forward(request, reply, {
        method: 'POST',
        path: `/1/agents/${request.params.agentId}/completions${upstreamQuery}`,
        headers,
        body: upstreamBody,
        mode,
        // Issue 24: the answer's tokens, once it is over (log line, metrics, span, budgets).
        onUsage: options.meter(request, request.params.agentId, Buffer.byteLength(upstreamBody)),
        observeEvents: options.approvals.watch(request, request.params.agentId, conversationId),
        // AI SDK 5+ clients are told what is left of their token budget in the stream itself.
        ...(mode === 'ai-sdk-5' ? { trailer: budgetTrailer(request, options.live, options.now ?? Date.now) } : {}),
        ...(rewriteEvents === undefined ? {} : { rewriteEvents })
      })
    }
  }
}
