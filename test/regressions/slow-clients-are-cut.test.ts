import { connect } from 'node:net'
import t from 'tap'
import type { Test } from 'tap'
import { AGENT_ID, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { postCompletion } from '../helpers/requests.js'

// Issue 11, item 2: an unauthenticated slow body kept its socket for as long as the attacker
// trickled (observed 420 s after the 401). Now every phase of a request has a deadline, and an
// answer sent before the body was read closes the connection.

const TIMEOUTS = {
  HEADERS_TIMEOUT_MS: '1000',
  REQUEST_TIMEOUT_MS: '1500',
  UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '1000',
  UPSTREAM_IDLE_TIMEOUT_MS: '1000',
  CONNECTION_TIMEOUT_MS: '3000'
}

interface Exchange {
  readonly answer: string
  /** Body bytes the client had trickled when the gateway closed the connection. */
  readonly bytesTrickled: number
}

/** Sends `head`, then trickles one body byte every 100 ms until the gateway closes the socket. */
function trickle(t: Test, url: string, head: string | undefined): Promise<Exchange> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    let answer = ''
    let bytesTrickled = 0
    let headSent = false
    const socket = connect(Number(port), hostname, () => {
      if (head === undefined) return
      socket.write(head)
      headSent = true
    })
    const timer = setInterval(() => {
      // Only after the head: on a slow machine the first tick can come before the connection.
      if (headSent && socket.writable) {
        socket.write('x')
        bytesTrickled += 1
      }
    }, 100)
    t.teardown(() => {
      clearInterval(timer)
      socket.destroy()
    })
    socket.on('data', (chunk) => (answer += chunk.toString()))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearInterval(timer)
      resolve({ answer, bytesTrickled })
    })
    setTimeout(() => reject(new Error(`the gateway kept the connection open for 10 s; answer so far: ${answer}`)), 10_000).unref()
  })
}

const postHead = (host: string, extra = '') =>
  `POST /agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5 HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n${extra}\r\n`

t.test('the server carries the configured timeouts', async (t) => {
  const { url } = await startStandIn(t)
  const { app } = await startGateway(t, url, { env: TIMEOUTS, listen: false })
  t.equal(app.server.headersTimeout, 1000)
  t.equal(app.server.requestTimeout, 1500)
  t.equal(app.server.timeout, 3000, 'connectionTimeout: socket inactivity')
  t.equal(app.server.keepAliveTimeout, 72_000, 'KEEP_ALIVE_TIMEOUT_MS default')
})

t.test('a 401 sent before the body was read closes the connection at once, however slowly the body comes', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: TIMEOUTS })
  const { answer, bytesTrickled } = await trickle(t, gateway.url, postHead(new URL(gateway.url).host))
  t.match(answer, /^HTTP\/1\.1 401 /)
  t.match(answer, /\r\nconnection: close\r\n/i, 'the refusal says the connection ends')
  t.match(answer, /"error":"session_required"/)
  t.ok(bytesTrickled < 10, `closed after the refusal, not after the request timeout (${bytesTrickled} bytes trickled)`)
})

t.test('a signed-in body trickled past REQUEST_TIMEOUT_MS is answered 408 and the connection closed', async (t) => {
  const { url, standIn } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: TIMEOUTS })
  const token = await sessionToken('slow-user')
  const { answer, bytesTrickled } = await trickle(t, gateway.url, postHead(new URL(gateway.url).host, `Authorization: Bearer ${token}\r\n`))
  t.match(answer, /^HTTP\/1\.1 408 /)
  t.match(answer, /\r\nConnection: close\r\n/)
  t.match(
    answer,
    /\{"error":"request_timeout","message":"The request took too long to arrive; send it again\.","requestId":"[0-9a-f-]{36}"\}$/,
    "in the gateway's error shape"
  )
  t.ok(bytesTrickled < 40, `cut near the 1.5 s request timeout, not after (${bytesTrickled} bytes at up to 10/s)`)
  t.equal(standIn.received.length, 0, 'nothing went upstream')
})

t.test('a connection that never sends a byte is answered 408 after HEADERS_TIMEOUT_MS and closed', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: TIMEOUTS })
  const { answer } = await trickle(t, gateway.url, undefined)
  t.match(answer, /^HTTP\/1\.1 408 /)
})

t.test('an answer that streams for longer than REQUEST_TIMEOUT_MS is not cut: the deadlines bound what the client sends', async (t) => {
  const { url } = await startStandIn(t, { paceMs: 60 })
  const gateway = await startGateway(t, url, { env: { ...TIMEOUTS, REQUEST_TIMEOUT_MS: '1000' } })
  const started = Date.now()
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'patient-user' })
  const text = await response.body.text()
  t.ok(Date.now() - started > 1000, `the stream lasted ${Date.now() - started} ms`)
  t.ok(text.endsWith('data: [DONE]\n\n'), 'and it finished')
})
