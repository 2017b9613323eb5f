import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ErasureIncomplete, InvalidId } from '../../errors.js'
import { conversationNamespace } from '../../policy/conversation-namespace.js'
import { userDataForClient } from '../../policy/conversation-mapping.js'
import { eraseUserData } from './erasure.js'
import type { AgentStudioRouteContext } from './index.js'

/**
 * Export and erasure of the caller's own data. The only path is `/me`: the user id comes from
 * the session, never from the URL, so no path can name anyone else.
 */
export default async function userDataRoutes(app: FastifyInstance, options: AgentStudioRouteContext) {
  const { config, credentials, upstream, limiters, agents } = options

  function userIdOf(request: FastifyRequest): string {
    const userId = request.user.id
    // encodeURIComponent keeps "/" and "?" inside the segment; dot segments would still move up a level.
    if (userId === '.' || userId === '..') throw new InvalidId('user id of this session cannot name a data export ("." and ".." are path steps)')
    return userId
  }

  const onRequest = [limiters.forRoute('userData')]

  app.get('/agent-studio/1/user-data/me', { onRequest }, async (request, reply) => {
    const userId = userIdOf(request)
    const namespace = conversationNamespace(userId)
    await upstream.forward(request, reply, {
      method: 'GET',
      path: `/1/user-data/${encodeURIComponent(userId)}`,
      headers: await credentials.headersFor(request, { userToken: true, jsonBody: false, origin: agents.upstreamOriginFor(undefined) }),
      rewriteJson: (answer) => {
        const { body, hidden } = userDataForClient(namespace, answer)
        if (hidden > 0) request.summary.conversationsHidden = hidden
        return body
      }
    })
  })

  app.delete('/agent-studio/1/user-data/me', { onRequest }, async (request, reply) => {
    const userId = userIdOf(request)
    const report = await eraseUserData({
      upstream,
      agentIds: config.policy.allowedAgentIds,
      userId,
      headersFor: (userToken, agentId) => credentials.headersFor(request, { userToken, jsonBody: false, origin: agents.upstreamOriginFor(agentId) })
    })
    request.summary.conversationsDeleted = report.conversationsDeleted
    const done = { conversationsDeleted: report.conversationsDeleted, messagesDeleted: report.messagesDeleted, memoriesDeleted: false }
    // 429 upstream_rate_limited (retry later) or 502 upstream_auth_failed, with what was done.
    if (report.stoppedBy !== undefined) {
      report.stoppedBy.publicFields = done
      throw report.stoppedBy
    }
    if (report.failures.length > 0) {
      // The usual error body, plus what was done, so a frontend can say so and retry.
      throw new ErasureIncomplete(`${report.conversationsDeleted} conversations deleted, messages ${report.messagesDeleted ? 'deleted' : 'not deleted'}`, {
        cause: new Error(report.failures.slice(0, 20).join('; ')),
        publicFields: done
      })
    }
    return reply.code(200).header('cache-control', 'no-store').send(done)
  })
}
