import type { FastifyInstance, FastifyRequest } from 'fastify'
import { buildUpstreamRequestHeaders } from '../../credentials/header-boundary.js'
import { ConversationNotFound, InvalidId } from '../../errors.js'
import { buildAgentHook } from '../../policy/agent-policy.js'
import { conversationListQuery } from '../../policy/conversation-query.js'
import { isConversationId } from '../../policy/ids.js'
import type { AgentStudioRouteContext } from './index.js'

interface ConversationParams {
  Params: { agentId: string; conversationId: string }
}

/**
 * The caller's conversations. Reads carry the caller's user token, so Agent Studio answers
 * with their conversations only; someone else's answers exactly like a missing one (404).
 * DELETE takes no user token upstream, so ownership is proven first with a read as the caller.
 */
export default async function conversationRoutes(app: FastifyInstance, options: AgentStudioRouteContext) {
  const { config, minter, upstream, limiters, owners, secrets } = options
  const agentFromPath = buildAgentHook(config.policy)
  const conversationFromPath = async (request: FastifyRequest) => {
    if (!isConversationId((request.params as { conversationId?: unknown }).conversationId)) throw new InvalidId('conversation id is not valid: ids are 1 to 128 letters, digits, "-" or "_", starting with a letter or digit')
  }
  const onRequest = [agentFromPath, conversationFromPath, limiters.forRoute('conversations')]
  const notFound = (status: number) => (status === 403 || status === 404 ? new ConversationNotFound() : undefined)
  const headersFor = async (request: FastifyRequest, withUserToken: boolean) =>
    buildUpstreamRequestHeaders(request.headers, secrets.credentials(withUserToken ? await minter.tokenFor(request.user.id) : undefined), false)

  app.get<{ Params: { agentId: string }; Querystring: Record<string, unknown> }>('/agent-studio/1/agents/:agentId/conversations', {
    onRequest: [agentFromPath, limiters.forRoute('conversations')]
  }, async (request, reply) => {
    const query = conversationListQuery(request.query)
    await upstream.forward(request, reply, {
      method: 'GET',
      path: `/1/agents/${request.params.agentId}/conversations${query}`,
      headers: await headersFor(request, true)
    })
  })

  app.get<ConversationParams>('/agent-studio/1/agents/:agentId/conversations/:conversationId', { onRequest }, async (request, reply) => {
    const { agentId, conversationId } = request.params
    await upstream.forward(request, reply, {
      method: 'GET',
      path: `/1/agents/${agentId}/conversations/${conversationId}`,
      headers: await headersFor(request, true),
      refuse: notFound
    })
  })

  app.delete<ConversationParams>('/agent-studio/1/agents/:agentId/conversations/:conversationId', { onRequest }, async (request, reply) => {
    const { agentId, conversationId } = request.params
    const path = `/1/agents/${agentId}/conversations/${conversationId}`
    const proof = await upstream.request({ method: 'GET', path, headers: await headersFor(request, true) })
    if (proof.statusCode !== 200) {
      request.summary.rule = 'not_owner'
      throw new ConversationNotFound()
    }
    await upstream.forward(request, reply, { method: 'DELETE', path, headers: await headersFor(request, false), refuse: notFound })
    await owners.forget(agentId, conversationId)
  })
}
