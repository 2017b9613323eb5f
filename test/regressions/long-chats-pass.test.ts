import t from 'tap'
import { NO_SHEDDING, startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { longChat } from '../helpers/long-chat.js'
import { postCompletion } from '../helpers/requests.js'

// Issue 10, item 6: clients resend the whole history every turn, tool outputs included; the old
// defaults (100 messages, 512 KiB) ended a long conversation with a 400/413 mid-chat.

t.test('a 200-message chat with search results (about 1 MiB) passes the default limits untouched', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: NO_SHEDDING })
  const messages = longChat()
  const body = JSON.stringify({ messages })
  t.ok(Buffer.byteLength(body) > 1_000_000, `the chat is ${Buffer.byteLength(body)} bytes`)
  t.equal(messages.length, 200)
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'u1', body })
  t.equal(response.statusCode, 200)
  await response.body.dump()
  t.same((standIn.received[0]!.body as { messages: unknown }).messages, messages, 'every message reached Agent Studio as sent')
  // Issue 26: the body goes upstream as a stream that lets go of its bytes once written (a long
  // chat's megabyte is not kept for the minutes the answer streams), still framed by its length.
  t.equal(
    Number(standIn.received[0]!.headers['content-length']),
    Buffer.byteLength(JSON.stringify(standIn.received[0]!.body)),
    'sent with its content-length, not chunked'
  )
  t.equal(standIn.received[0]!.headers['transfer-encoding'], undefined)
})

t.test('over the limits, the refusal names the limit and its value', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { ...NO_SHEDDING, MAX_MESSAGES: '150', BODY_LIMIT_BYTES: '1048576' } })
  const client = testClient(t)
  const tooMany = await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user: 'u1', body: { messages: longChat(80, 0) } })
  t.equal(tooMany.statusCode, 400)
  t.match(await tooMany.body.json(), {
    error: 'invalid_request',
    message: /"messages" has 160 messages, more than the 150 this gateway accepts \(MAX_MESSAGES\)/
  })
  const tooBig = await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user: 'u1', body: { messages: longChat(100, 8) } })
  t.equal(tooBig.statusCode, 413)
  t.match(await tooBig.body.json(), {
    error: 'payload_too_large',
    message: 'The request body is larger than the 1048576 bytes (BODY_LIMIT_BYTES) this gateway accepts.'
  })
})
