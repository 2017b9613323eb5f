// Regression (issue 19.5): bytesSent was 0 on every non-stream answer (errors, lists, pages)
// although docs/logging.md says it is the bytes sent: it read content-length from the raw
// response, which never holds the headers Fastify passes to writeHead.
import t from 'tap'
import { request } from 'undici'
import { AGENT_ID, sessionToken } from '../helpers/fixtures.js'
import { sharedGateways, testClient } from '../helpers/gateway.js'
import { waitFor } from '../helpers/requests.js'

const shared = sharedGateways(t, { listen: true })

t.test('an error answer and a conversation list each log the bytes of the body they sent', async (t) => {
  const { gateway } = await shared()
  const dispatcher = testClient(t)
  const refused = await request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/conversations`, { dispatcher })
  t.equal(refused.statusCode, 401)
  const refusedBody = Buffer.from(await refused.body.arrayBuffer())
  const list = await request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/conversations`, {
    dispatcher,
    headers: { authorization: `Bearer ${await sessionToken('bytes-user')}` }
  })
  t.equal(list.statusCode, 200)
  const listBody = Buffer.from(await list.body.arrayBuffer())
  await waitFor(() => gateway.logs.requests.length === 2)
  const [refusedLine, listLine] = gateway.logs.requests
  t.ok(refusedBody.length > 0)
  t.equal(refusedLine!.bytesSent, refusedBody.length, 'the 401 body')
  t.ok(listBody.length > 0)
  t.equal(listLine!.bytesSent, listBody.length, 'the list body')
})
