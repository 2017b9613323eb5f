// Regression (issue 19.9): after an upstream 429 with a huge retry-after, the browser was told
// `retry-after: 3600` while the gateway's hold-off stopped at 120 s: two readings of one header.
import t from 'tap'
import { MAX_HOLD_OFF_MS } from '../../src/upstream/hold-off.js'
import { AGENT_ID, completionBody, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'

t.test('an upstream retry-after beyond the bound: the browser is told the hold-off the gateway applies', async (t) => {
  let limited = true
  const { url } = await startStandIn(t, {
    intercept: ({ url: path }) =>
      limited && path.includes('/completions')
        ? { status: 429, body: { message: 'Too many requests', status: 429 }, headers: { 'retry-after': '99999' } }
        : undefined
  })
  const gateway = await startGateway(t, url, { listen: false })
  const complete = async (user: string) =>
    gateway.app.inject({
      method: 'POST',
      url: `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await sessionToken(user)}` },
      payload: completionBody()
    })
  const first = await complete('u1')
  t.equal(first.statusCode, 429)
  t.equal(first.headers['retry-after'], String(MAX_HOLD_OFF_MS / 1000), 'the answer to the 429 itself says 120, not 3600')
  t.match(first.json().message, /retry in 120 seconds/)
  limited = false
  const held = await complete('u2')
  t.equal(held.statusCode, 429, 'the gateway holds off')
  t.match(gateway.logs.requests.at(-1), { rule: 'upstream_hold_off' })
  const heldFor = Number(held.headers['retry-after'])
  t.ok(heldFor > 110 && heldFor <= 120, `the held-off request is told the rest of the same 120 s (${heldFor})`)
})
