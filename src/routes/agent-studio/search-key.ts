import type { FastifyInstance } from 'fastify'
import { buildSecuredKeyIssuer } from '../../keys/secured-keys.js'
import type { AgentStudioRouteContext } from './index.js'

/**
 * `POST /search-key`: a Secured API Key for this user's InstantSearch, derived on the server
 * with restrictions the browser cannot remove. Session and limits as on every other route.
 */
export default async function searchKeyRoutes(app: FastifyInstance, options: AgentStudioRouteContext) {
  const { config, limiters, secrets } = options
  const issue = buildSecuredKeyIssuer({ appId: secrets.appId, parentKey: () => secrets.searchKey, config: config.searchKey })

  app.post('/search-key', { onRequest: [limiters.forRoute('searchKey')] }, async (request, reply) => {
    const key = issue(request.user)
    reply.header('cache-control', 'no-store')
    return { appId: secrets.appId, apiKey: key.apiKey, validUntil: key.validUntil, indices: key.indices }
  })
}
