import type { FastifyReply, FastifyRequest } from 'fastify'
import { buildAgentPolicy } from '../../policy/agent-policy.js'
import type { AgentStudioRouteContext, RouteImplementation } from './route-context.js'

interface FeedbackBody {
  messageId: string
  agentId: string
  vote: 0 | 1
  tags?: string[]
  notes?: string
}

/** `PATCH /1/feedback` changes a vote: the same fields, only the vote optional (at least one change). */
type FeedbackChange = Omit<FeedbackBody, 'vote'> & { vote?: 0 | 1 }

const FIELDS = {
  messageId: { type: 'string', minLength: 1, maxLength: 128 },
  agentId: { type: 'string', minLength: 1, maxLength: 128 },
  vote: { type: 'integer', enum: [0, 1] },
  tags: { type: 'array', maxItems: 10, items: { type: 'string', minLength: 1, maxLength: 50 } },
  notes: { type: 'string', maxLength: 1000 }
} as const

/**
 * `POST /agent-studio/1/feedback`: a vote on one answer; `PATCH`: a changed vote (issue 23: the
 * search-ACL `PATCH /1/feedback` of Algolia's newer spec files, `{ messageId, agentId, vote?,
 * tags?, notes? }`). Both are validated field by field, with the same agent allow-list, limits
 * and header boundary; nothing else passes.
 */
export function feedback(options: AgentStudioRouteContext): RouteImplementation {
  return {
    schema: { body: { type: 'object', additionalProperties: false, required: ['messageId', 'agentId', 'vote'], properties: FIELDS } },
    handler: feedbackForwarder(options, 'POST')
  }
}

export function feedbackChange(options: AgentStudioRouteContext): RouteImplementation {
  return {
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['messageId', 'agentId'],
        // A change that changes nothing is the browser's mistake, not an upstream call.
        anyOf: [{ required: ['vote'] }, { required: ['tags'] }, { required: ['notes'] }],
        properties: FIELDS
      }
    },
    handler: feedbackForwarder(options, 'PATCH')
  }
}

/** A vote (POST) or a change of it (PATCH): the body rebuilt from the schema's fields, the agent checked, upstream with that agent's Origin. */
function feedbackForwarder({ config, credentials, upstream, agents }: AgentStudioRouteContext, method: 'POST' | 'PATCH') {
  const checkAgent = buildAgentPolicy(config.policy)
  return async function forwardFeedback(request: FastifyRequest<{ Body: FeedbackChange }>, reply: FastifyReply) {
    const { messageId, agentId, vote, tags, notes } = request.body
    request.summary.agentId = checkAgent(agentId)
    const body: FeedbackChange = { messageId, agentId }
    if (vote !== undefined) body.vote = vote
    if (tags !== undefined) body.tags = tags
    if (notes !== undefined) body.notes = notes
    await upstream.forward(request, reply, {
      method,
      path: '/1/feedback',
      headers: await credentials.headersFor(request, { userToken: true, jsonBody: true, origin: agents.upstreamOriginFor(agentId) }),
      body: JSON.stringify(body)
    })
  }
}
