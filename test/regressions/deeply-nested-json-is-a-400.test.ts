import t from 'tap'
import { request } from 'undici'
import { AGENT_ID, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'

// Issue 11, item 10: a 20 KB body nesting arrays 10,000 deep inside a message part answered
// 500 internal_error (the stack overflowed past the schema), with an error-level log line and a
// stack trace.

const deep = (depth: number) => `{"messages":[{"id":"m1","role":"user","parts":[{"type":"text","text":"hi","data":${'['.repeat(depth)}${']'.repeat(depth)}}]}]}`

t.test('JSON nested 10,000 deep is 400 invalid_request, logged as a client error without a stack', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url)
  const client = testClient(t)
  const headers = { authorization: `Bearer ${await sessionToken('alice')}`, 'content-type': 'application/json' }
  for (const path of [`/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5`, '/agent-studio/1/feedback']) {
    const response = await request(`${gateway.url}${path}`, { method: 'POST', dispatcher: client, headers, body: deep(10_000) })
    t.equal(response.statusCode, 400, path)
    t.match(await response.body.json(), { error: 'invalid_request', message: 'The request is not valid: the JSON body is nested deeper than 64 levels.' })
  }
  t.equal(standIn.received.length, 0)
  const lines = gateway.logs.requests
  t.equal(lines.length, 2)
  for (const line of lines) {
    t.equal(line.level, 30, 'info, not error')
    t.equal(line.err, undefined, 'no error object, no stack')
  }
  t.notMatch(gateway.logs.text(), /RangeError|Maximum call stack|"stack"/)
})

t.test('strings full of brackets do not count as nesting', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url)
  const text = '[[[{{{'.repeat(100) + '\\"]]]'
  const response = await request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`, {
    method: 'POST',
    dispatcher: testClient(t),
    headers: { authorization: `Bearer ${await sessionToken('alice')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text }] }] })
  })
  t.equal(response.statusCode, 200)
  await response.body.dump()
  t.equal(standIn.received.length, 1)
})
