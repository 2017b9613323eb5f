import type { FastifyReply, FastifyRequest } from 'fastify'
import { ConversationNotFound } from '../../errors.js'
import { conversationForClient, conversationListForClient } from '../../policy/conversation-mapping.js'
import { conversationNamespace } from '../../policy/conversation-namespace.js'
import { conversationListQuery, conversationReadQuery } from '../../policy/conversation-query.js'
import type { AgentStudioRouteContext, RouteImplementation } from './route-context.js'

/*
 * The caller's conversations. The id in the path is the client's; upstream it is always the
 * caller's namespaced id, so someone else's conversation cannot be named at all, and a missing
 * one and someone else's are the same upstream 404. Reads carry the caller's user token too;
 * DELETE (which Agent Studio takes without one) goes straight upstream: the id is the
 * caller's by construction.
 */

type ListRequest = FastifyRequest<{ Params: { agentId: string }; Querystring: Record<string, unknown> }>
type ConversationRequest = FastifyRequest<{ Params: { agentId: string; conversationId: string }; Querystring: Record<string, unknown> }>

const notFound = (status: number) => (status === 404 ? new ConversationNotFound() : undefined)

export function conversationList({ credentials, upstream, agents }: AgentStudioRouteContext): RouteImplementation {
  return {
    handler: async (request: ListRequest, reply: FastifyReply) => {
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
    }
  }
}

export function conversationRead({ credentials, upstream, agents }: AgentStudioRouteContext): RouteImplementation {
  return {
    handler: async (request: ConversationRequest, reply: FastifyReply) => {
      const { agentId, conversationId } = request.params
      const namespace = conversationNamespace(request.user.id)
      await upstream.forward(request, reply, {
        method: 'GET',
        path: `/1/agents/${agentId}/conversations/${namespace.toUpstream(conversationId)}${conversationReadQuery(request.query)}`,
        headers: await credentials.headersFor(request, { userToken: true, jsonBody: false, origin: agents.upstreamOriginFor(agentId) }),
        refuse: notFound,
        rewriteJson: (answer) => {
          const mapped = conversationForClient(namespace, answer)
          if (mapped === undefined) throw new ConversationNotFound()
          return mapped
        }
      })
    }
  }
}

export function conversationDelete({ credentials, upstream, agents }: AgentStudioRouteContext): RouteImplementation {
  return {
    handler: async (request: ConversationRequest, reply: FastifyReply) => {
      const { agentId, conversationId } = request.params
      await upstream.forward(request, reply, {
        method: 'DELETE',
        path: `/1/agents/${agentId}/conversations/${conversationNamespace(request.user.id).toUpstream(conversationId)}`,
        headers: await credentials.headersFor(request, { userToken: false, jsonBody: false, origin: agents.upstreamOriginFor(agentId) }),
        refuse: notFound
      })
    }
  }
}
