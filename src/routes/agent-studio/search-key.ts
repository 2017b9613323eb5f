import type { RouteImplementation, AgentStudioRouteContext } from './route-context.js'

/**
 * `POST /search-key`: a Secured API Key for this user's InstantSearch, derived on the server
 * with restrictions the browser cannot remove. Session and limits as on every other route.
 * Registered only with ALGOLIA_SEARCH_KEY set (config and reload both require it): the keys
 * derive from it, never from the API key. The request needs no body: whatever a client sends
 * is read up to 1 KiB and ignored (the route table's `body: 'ignored'`), so
 * `fetch('/search-key', { method: 'POST' })` just works.
 */
export function searchKey({ credentials }: AgentStudioRouteContext): RouteImplementation {
  return {
    bodyLimit: 1024,
    handler: async (request, reply) => {
      const key = credentials.searchKeyFor(request.user)
      reply.header('cache-control', 'no-store')
      return { appId: credentials.appId, apiKey: key.apiKey, validUntil: key.validUntil, indices: key.indices }
    }
  }
}
