import t from 'tap'
import { MAX_TOKENS_PER_ANSWER, usageTap } from '../../src/usage/usage-reader.js'
import { completionBody, sessionToken, AGENT_ID } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { waitFor } from '../helpers/requests.js'
import { request } from 'undici'

// Review of issue 24. An upstream reporting 2^53 tokens emptied every budget of the user and the
// tenant at once and, repeated, overflowed the store's counters; and a browser that left before
// the answer's headers (stream=false: Agent Studio runs the whole model first) was charged nothing.

t.test('one answer is charged at most MAX_TOKENS_PER_ANSWER, and never less than its input and output', async (t) => {
  const tap = usageTap('ai-sdk-5')
  tap.push(
    Buffer.from(
      `data: {"type":"message-metadata","messageMetadata":{"usage":{"inputTokens":9007199254740991,"outputTokens":5,"totalTokens":9007199254740991}}}\n\n`
    )
  )
  const usage = tap.end()!
  t.equal(usage.total, MAX_TOKENS_PER_ANSWER)
  t.equal(usage.input, MAX_TOKENS_PER_ANSWER)
  const low = usageTap('ai-sdk-5')
  low.push(Buffer.from(`data: {"type":"message-metadata","messageMetadata":{"usage":{"inputTokens":300,"outputTokens":200,"totalTokens":1}}}\n\n`))
  t.equal(low.end()!.total, 500, 'a total below input + output is not believed')
})

t.test('leaving before the headers of a non-streamed answer is charged an estimate', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url)
  standIn.setFault({ kind: 'hang' })
  const controller = new AbortController()
  const pending = request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`, {
    method: 'POST',
    dispatcher: testClient(t),
    signal: controller.signal,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await sessionToken('u-early')}` },
    body: JSON.stringify(completionBody())
  }).catch(() => undefined)
  await waitFor(() => standIn.received.length === 1)
  controller.abort()
  await pending
  await waitFor(() => gateway.logs.requests.length === 1)
  t.equal(gateway.logs.requests[0]!.cutBy, 'client')
  // The charge lands in the store once the upstream call has been given up (after the log line).
  let tokens = 0
  for (let poll = 0; poll < 200 && tokens === 0; poll++) {
    const usage = await gateway.app.inject({
      method: 'GET',
      url: '/agent-studio/usage/me',
      headers: { authorization: `Bearer ${await sessionToken('u-early')}` }
    })
    tokens = (usage.json() as { day: { tokens: number } }).day.tokens
    if (tokens === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  t.ok(tokens > 0, `an estimate was charged to the user's day (${tokens} tokens)`)
})
