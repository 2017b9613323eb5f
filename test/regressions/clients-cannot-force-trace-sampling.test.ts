// @test-process: alone (its own tracer provider, which is process-wide)
// Regression (issue 19.7): any client with an allowed Origin chose the trace id and forced
// sampling: at TRACE_SAMPLE_RATIO=0, 21 requests exported 171 spans, 20 of them refused logins.
// The gateway now decides sampling from the trace id alone, for continued traces too.
// Runs in a process of its own (scripts/build-tests.mjs): the tracer provider is process-wide.
import t from 'tap'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { APP_ORIGIN, completionBody, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { postCompletion, waitFor } from '../helpers/requests.js'

t.test('at ratio 0 no span is exported, whatever sampled traceparent a client or the trusted proxy sends', async (t) => {
  const { url } = await startStandIn(t)
  const exporter = new InMemorySpanExporter()
  const gateway = await startGateway(t, url, {
    env: { TRACING_ENABLED: 'true', TRACE_SAMPLE_RATIO: '0', TRUSTED_PROXIES: '127.0.0.1', MAX_EVENT_LOOP_DELAY_MS: '0' },
    deps: { spanExporter: exporter }
  })
  const client = testClient(t)
  const sampled = (n: number) => `00-${n.toString(16).padStart(32, 'a')}-b7ad6b7169203331-01`
  for (let n = 0; n < 20; n++) {
    // A refused login each, with a sampled parent: none of them may make a span.
    const refused = await postCompletion({
      gatewayUrl: gateway.url,
      dispatcher: client,
      headers: { origin: APP_ORIGIN, traceparent: sampled(n), authorization: 'Bearer not-a-jwt' }
    })
    t.equal(refused.statusCode, 401)
    await refused.body.dump()
  }
  const served = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: client,
    headers: { origin: APP_ORIGIN, traceparent: sampled(99), authorization: `Bearer ${await sessionToken('u1')}` },
    body: completionBody()
  })
  t.equal(served.statusCode, 200)
  await served.body.text()
  await waitFor(() => gateway.logs.requests.length === 21)
  t.equal(exporter.getFinishedSpans().length, 0, 'no span exported')
  t.ok(
    gateway.logs.requests.every((line) => line.traceId === undefined),
    'no line names a trace no backend holds'
  )
})
