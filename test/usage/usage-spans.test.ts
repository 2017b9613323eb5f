// @test-process: alone (installs its own tracer provider, which is process-wide)
// Issue 24: with tracing on, a completion's request span carries its usage as the OpenTelemetry
// GenAI semantic conventions name it, and nothing of the user or the conversation. Its own tracer
// provider (process-wide state): listed in ALONE (scripts/build-tests.mjs).
import t from 'tap'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { AGENT_ID, completionBody } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { postCompletion, waitFor } from '../helpers/requests.js'

t.test('the request span of a completion carries gen_ai.* usage attributes', async (t) => {
  const { url } = await startStandIn(t)
  const exporter = new InMemorySpanExporter()
  const gateway = await startGateway(t, url, { env: { TRACING_ENABLED: 'true' }, deps: { spanExporter: exporter } })
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'span-user-77', body: completionBody('why [think]') })
  await response.body.text()
  await waitFor(() => exporter.getFinishedSpans().some((span) => span.name === 'request'))
  const root = exporter.getFinishedSpans().find((span) => span.name === 'request')!
  t.match(root.attributes, {
    'gen_ai.operation.name': 'chat',
    'gen_ai.agent.id': AGENT_ID,
    'gen_ai.usage.input_tokens': 12,
    'gen_ai.usage.output_tokens': 24,
    'gen_ai.usage.reasoning.output_tokens': 8,
    'gen_ai.usage.cache_read.input_tokens': 0
  })
  t.notMatch(JSON.stringify(exporter.getFinishedSpans().map((span) => span.attributes)), /span-user-77/, 'no user id')
})
