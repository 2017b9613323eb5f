// Regression (issue 10, item 10): CORS allowed only content-type and authorization, so a
// frontend adding W3C trace context (traceparent, tracestate) failed its preflight.
import t from 'tap'
import { AGENT_ID, APP_ORIGIN } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'

t.test('a preflight asking for traceparent and tracestate is allowed by default', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { listen: false })
  const response = await gateway.app.inject({
    method: 'OPTIONS',
    url: `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5`,
    headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,traceparent,tracestate' }
  })
  t.equal(response.statusCode, 204)
  t.equal(response.headers['access-control-allow-origin'], APP_ORIGIN)
  t.equal(response.headers['access-control-allow-headers'], 'content-type, authorization, traceparent, tracestate, x-algolia-referer')
  t.equal(gateway.logs.requests[0]!.cors, undefined, 'nothing refused, nothing named')
})
