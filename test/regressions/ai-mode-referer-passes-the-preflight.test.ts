// Regression (issue 23, item 3): InstantSearch's AI-mode search box, autocomplete and prompt
// suggestions send `x-algolia-referer` on completions (instantsearch.js lib/chat/openChat.js);
// CORS_ALLOWED_HEADERS did not allow it, so a cross-origin page using them failed its preflight.
import t from 'tap'
import { AGENT_ID, APP_ORIGIN } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'

t.test('a preflight asking for x-algolia-referer is allowed by default, and one for another x-algolia-* header is not', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { listen: false })
  const preflight = (headers: string) =>
    gateway.app.inject({
      method: 'OPTIONS',
      url: `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5`,
      headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': headers }
    })
  const allowed = await preflight('content-type,x-algolia-referer')
  t.equal(allowed.statusCode, 204)
  t.equal(allowed.headers['access-control-allow-origin'], APP_ORIGIN)
  t.match(allowed.headers['access-control-allow-headers'], /(^|, )x-algolia-referer(,|$)/)
  t.equal(gateway.logs.requests[0]!.cors, undefined, 'nothing refused')

  await preflight('content-type,x-algolia-api-key')
  t.match(gateway.logs.requests[1], { cors: 'cors_header_not_allowed', header: 'x-algolia-api-key' })
})
