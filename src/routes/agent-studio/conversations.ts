import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ConversationNotFound, InvalidId } from '../../errors.js'
import { buildAgentHook } from '../../policy/agent-policy.js'
import { conversationForClient, conversationListForClient } from '../../policy/conversation-mapping.js'
import { conversationNamespace, INVALID_CONVERSATION_ID_MESSAGE, isClientConversationId } from '../../policy/conversation-namespace.js'
import { conversationListQuery, conversationReadQuery } from '../../policy/conversation-query.js'
import type { AgentStudioRouteContext } from './index.js'

interface ConversationParams {
  Params: { agentId: string; conversationId: string }
}

/**
 * The caller's conversations. The id in the path is the client's; upstream it is always the
 * caller's namespaced id, so someone else's conversation cannot be named at all, and a missing
 * one and someone else's are the same upstream 404. Reads carry the caller's user token too;
 * DELETE (which Agent Studio takes without one) goes straight upstream: the id is the
 * caller's by construction.
 */
export default async function conversationRoutes(app: FastifyInstance, options: AgentStudioRouteContext) {
  const { config, credentials, upstream, limiters, agents } = options
  const agentFromPath = buildAgentHook(config.policy)
  const conversationFromPath = async (request: FastifyRequest) => {
    if (!isClientConversationId((request.params as { conversationId?: unknown }).conversationId)) throw new InvalidId(INVALID_CONVERSATION_ID_MESSAGE)
  }
  const onRequest = [agentFromPath, conversationFromPath, limiters.forRoute('conversations')]
  const notFound = (status: number) => (status === 404 ? new ConversationNotFound() : undefined)

  app.get<{ Params: { agentId: string }; Querystring: Record<string, unknown> }>('/agent-studio/1/agents/:agentId/conversations', {
    onRequest: [agentFromPath, limiters.forRoute('conversations')]
  }, async (request, reply) => {
    const query = conversationListQuery(request.query)
    const namespace = conversationNamespace(request.user.id)
    await upstream.forward(request, reply, {
      method: 'GET',
      path: `/1/agents/${request.params.agentId}/conversations${query}`,
      headers: await credentials.headersFor(request, { userToken: true, jsonBody: false, origin: agents.upstreamOriginFor(request.params.agentId) }),
      rewriteJson: (answer) => {
        const { body, hidden } = conversationListForClient(namespace, answer)
        if (hidden > 0) request.summary.conversationsHidden = hidden
        return body
      }
    })
  })

  app.get<ConversationParams & { Querystring: Record<string, unknown> }>('/agent-studio/1/agents/:agentId/conversations/:conversationId', { onRequest }, async (request, reply) => {
    const { agentId, conversationId } = request.params
    const namespace = conversationNamespace(request.user.id)
    await upstream.forward(request, reply, {
      method: 'GET',
      path: `/1/agents/${agentId}/conversations/${namespace.toUpstream(conversationId)}${conversationReadQuery(request.query)}`,
      headers: await credentials.headersFor(request, { userToken: true, jsonBody: false, origin: agents.upstreamOriginFor(request.params.agentId) }),
      refuse: notFound,
      rewriteJson: (answer) => {
        const mapped = conversationForClient(namespace, answer)
        if (mapped === undefined) throw new ConversationNotFound()
        return mapped
      }
    })
  })

  app.delete<ConversationParams>('/agent-studio/1/agents/:agentId/conversations/:conversationId', { onRequest }, async (request, reply) => {
    const { agentId, conversationId } = request.params
    await upstream.forward(request, reply, {
      method: 'DELETE',
      path: `/1/agents/${agentId}/conversations/${conversationNamespace(request.user.id).toUpstream(conversationId)}`,
      headers: await credentials.headersFor(request, { userToken: false, jsonBody: false, origin: agents.upstreamOriginFor(agentId) }),
      refuse: notFound
    })
  })
}
