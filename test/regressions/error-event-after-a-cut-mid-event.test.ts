import t from 'tap'
import { eventBoundary, HOLD_LIMIT } from '../../src/upstream/event-boundary.js'
import { NO_SHEDDING, startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { chatTurn, userTurn } from '../helpers/ai-sdk.js'
import { postCompletion } from '../helpers/requests.js'

// Issue 10, item 8: a stream cut mid-event got the error event appended right after the partial
// line, so the client saw a parse error instead of the message.

t.test("the AI SDK reads the gateway's error message after upstream breaks off in the middle of an event", async (t) => {
  const { standIn, url } = await startStandIn(t, { paceMs: 10 })
  standIn.setFault({ kind: 'cut', afterEvents: 4, midEvent: true })
  const gateway = await startGateway(t, url, { env: NO_SHEDDING })
  const turn = await chatTurn({ gatewayUrl: gateway.url, user: 'u1', messages: [userTurn('m1', 'Tell me more')] })
  t.equal(turn.errors.length, 1, 'one error, and it is ours, not a JSON parse error')
  t.equal((turn.errors[0] as Error).message, 'The answer was interrupted before it finished. Please try again.')
  t.match(turn.message?.parts, [{ type: 'step-start' }, { type: 'text', text: /^You / }], 'the whole events before the cut were kept')
})

t.test('an ai-sdk-4 stream cut mid-line ends with the error part on a line of its own', async (t) => {
  const { standIn, url } = await startStandIn(t, { paceMs: 10 })
  standIn.setFault({ kind: 'cut', afterEvents: 3, midEvent: true })
  const gateway = await startGateway(t, url, { env: NO_SHEDDING })
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1', mode: 'ai-sdk-4' })
  const text = await response.body.text()
  const lines = text.split('\n')
  t.equal(lines.pop(), '', 'ends with a newline')
  t.match(lines.at(-1), /^3:"The answer was interrupted/)
  for (const line of lines) t.ok(/^[0-9a-z]:/.test(line) && JSON.parse(line.slice(2)) !== undefined, `a whole part: ${line.slice(0, 30)}`)
})

t.test('event boundary: whole events pass as they are, an unfinished tail waits for its end', async (t) => {
  const sse = eventBoundary('ai-sdk-5')
  const whole = Buffer.from('data: {"a":1}\n\n')
  t.equal(sse.push(whole), whole, 'a chunk of whole events is passed on without a copy')
  t.equal(sse.push(Buffer.from('data: {"b"')), undefined, 'a partial event is held')
  t.equal(sse.push(Buffer.from(':2}\n\ndata: {"c"'))?.toString(), 'data: {"b":2}\n\n')
  t.equal(sse.separator(), '', 'the held tail is never written: the stream is on a boundary')
  t.equal(sse.push(Buffer.from(':3}\r\n\r\n'))?.toString(), 'data: {"c":3}\r\n\r\n', 'CRLF line ends count too')
  t.equal(sse.flush(), undefined)

  const v4 = eventBoundary('ai-sdk-4')
  t.equal(v4.push(Buffer.from('0:"a"\n0:"b'))?.toString(), '0:"a"\n')
  t.equal(v4.push(Buffer.from('"\n'))?.toString(), '0:"b"\n')
})

t.test('event boundary: an event larger than the hold limit is passed on, and the error then gets a separator', async (t) => {
  const sse = eventBoundary('ag-ui')
  const huge = Buffer.alloc(HOLD_LIMIT + 1, 'x')
  t.equal(sse.push(huge), huge)
  t.equal(sse.separator(), '\n\n')
  const v4 = eventBoundary('ai-sdk-4')
  v4.push(huge)
  t.equal(v4.separator(), '\n')
  t.equal(v4.flush(), undefined)
  const tail = eventBoundary('ai-sdk-5')
  tail.push(Buffer.from('data: [DONE]'))
  t.equal(tail.flush()?.toString(), 'data: [DONE]', 'at the normal end the tail is written')
})
