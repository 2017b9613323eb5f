import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { buildUpstreamRequestHeaders } from '../../credentials/header-boundary.js'
import { InvalidId } from '../../errors.js'
import type { AgentStudioRouteContext } from './index.js'

/**
 * Export and erasure of the caller's own data. The only path is `/me`: the user id comes from
 * the session, never from the URL, so no path can name anyone else.
 */
export default async function userDataRoutes(app: FastifyInstance, options: AgentStudioRouteContext) {
  const { minter, upstream, limiters, secrets } = options

  async function forward(request: FastifyRequest, reply: FastifyReply, method: 'GET' | 'DELETE') {
    const userId = request.user.id
    // encodeURIComponent keeps "/" and "?" inside the segment; dot segments would still move up a level.
    if (userId === '.' || userId === '..') throw new InvalidId('user id of this session cannot name a data export ("." and ".." are path steps)')
    await upstream.forward(request, reply, {
      method,
      path: `/1/user-data/${encodeURIComponent(userId)}`,
      headers: buildUpstreamRequestHeaders(request.headers, secrets.credentials(await minter.tokenFor(userId)), false)
    })
  }

  const onRequest = [limiters.forRoute('userData')]
  app.get('/agent-studio/1/user-data/me', { onRequest }, (request, reply) => forward(request, reply, 'GET'))
  app.delete('/agent-studio/1/user-data/me', { onRequest }, (request, reply) => forward(request, reply, 'DELETE'))
}
