// Regression (issue 19.1): the resume probe answered the right 204, but its handler sent the reply
// without returning it, so Fastify tried to send again: a "Reply was already sent" warning, a log
// line with `rule: "internal_error"` and an ERR_HTTP_HEADERS_SENT stack, and
// gateway_refusals_total{rule="internal_error"} counted every useChat page load.
import t from 'tap'
import { request } from 'undici'
import { AGENT_ID, sessionToken } from '../helpers/fixtures.js'
import { sharedGateways, testClient } from '../helpers/gateway.js'
import { waitFor } from '../helpers/requests.js'

const shared = sharedGateways(t, { listen: true })

t.test('a resume probe over a real socket leaves no warning, no rule on its line and no refusal count', async (t) => {
  const { gateway } = await shared()
  const dispatcher = testClient(t)
  const token = await sessionToken('resume-user')
  const response = await request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/completions/chat-1/stream?compatibilityMode=ai-sdk-5`, {
    dispatcher,
    headers: { authorization: `Bearer ${token}` }
  })
  t.equal(response.statusCode, 204)
  t.equal(await response.body.text(), '')
  await waitFor(() => gateway.logs.requests.length === 1)
  const line = gateway.logs.requests[0]!
  t.equal(line.status, 204)
  t.notOk('rule' in line, 'the line names no refusal rule')
  t.same(
    gateway.logs.lines.filter((entry) => Number(entry.level) >= 40),
    [],
    'no warning or error was logged'
  )
  t.notMatch(gateway.logs.text(), /ERR_HTTP_HEADERS_SENT|already sent/)
  const metrics = await (await request(`${gateway.url}/metrics`, { dispatcher })).body.text()
  t.notMatch(metrics, /gateway_refusals_total\{rule="internal_error"\}/, 'no internal error is counted')
})
