import type { FastifyInstance } from 'fastify'
import type { AgentStudioRouteContext } from './index.js'

/**
 * `POST /search-key`: a Secured API Key for this user's InstantSearch, derived on the server
 * with restrictions the browser cannot remove. Session and limits as on every other route.
 */
export default async function searchKeyRoutes(app: FastifyInstance, options: AgentStudioRouteContext) {
  // Registered only with ALGOLIA_SEARCH_KEY set (config and reload both require it): the keys derive from it, never from the API key.
  const { credentials, limiters } = options

  // The request needs no body: whatever a client sends (nothing, `{}`, any content type) is
  // read up to 1 KiB and ignored, so `fetch('/search-key', { method: 'POST' })` just works.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 }, (_request, _body, done) => done(null, undefined))

  app.post('/search-key', { onRequest: [limiters.forRoute('searchKey', { upstream: false })], bodyLimit: 1024 }, async (request, reply) => {
    const key = credentials.searchKeyFor(request.user)
    reply.header('cache-control', 'no-store')
    return { appId: credentials.appId, apiKey: key.apiKey, validUntil: key.validUntil, indices: key.indices }
  })
}
