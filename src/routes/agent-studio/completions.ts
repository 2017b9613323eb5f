import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { buildUpstreamRequestHeaders } from '../../credentials/header-boundary.js'
import { buildCompletionBodyPolicy, completionBodySchema } from '../../policy/completion-body.js'
import type { CompletionBody } from '../../policy/completion-body.js'
import { buildCompletionQueryPolicy } from '../../policy/completion-query.js'
import { buildAgentPolicy } from '../../policy/agent-policy.js'
import type { AgentStudioRouteContext } from './index.js'

interface CompletionRoute {
  Params: { agentId: string }
  Querystring: Record<string, unknown>
  Body: CompletionBody
}

/** `POST /agent-studio/1/agents/:agentId/completions`: the chat itself, streamed back. */
export default async function completionRoutes(app: FastifyInstance, options: AgentStudioRouteContext) {
  const { config, minter, upstream, limiters, streamSlots } = options
  const { appId, apiKey } = config.algolia
  const checkAgent = buildAgentPolicy(config.policy)
  const queryPolicy = buildCompletionQueryPolicy(config.policy)
  const bodyPolicy = buildCompletionBodyPolicy(config.policy)

  app.post<CompletionRoute>('/agent-studio/1/agents/:agentId/completions', {
    schema: { body: completionBodySchema(config.policy) },
    onRequest: [
      async (request) => {
        const agentId = checkAgent((request.params as { agentId: string }).agentId)
        request.summary.agentId = agentId
      },
      limiters.forRoute('completions')
    ],
    handler: async (request: FastifyRequest<CompletionRoute>, reply: FastifyReply) => {
      const { mode, upstreamQuery } = queryPolicy(request.query)
      const body = bodyPolicy(request.body)
      // Held until the response closes, whatever closes it (end, error, client abort).
      const lease = await streamSlots.acquire(request.user.id, (reason) => (request.summary.degraded = reason))
      reply.raw.once('close', () => lease.release())
      const userToken = await minter.tokenFor(request.user.id)
      await upstream.forward(request, reply, {
        method: 'POST',
        path: `/1/agents/${request.params.agentId}/completions${upstreamQuery}`,
        headers: buildUpstreamRequestHeaders(request.headers, { appId, apiKey, userToken }),
        body: JSON.stringify(body),
        mode
      })
    }
  })
}
