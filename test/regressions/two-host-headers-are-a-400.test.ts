import t from 'tap'
import { sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'
import { rawRequest } from '../helpers/requests.js'

// Issue 11, item 13: a request with two Host headers was accepted (Node keeps the first). A
// proxy in front that reads the other one routes by a host the gateway never saw, and the
// same-origin CSRF rule compares Origin with Host. RFC 9112 §3.2: answer 400.

t.test('two Host headers, in any case, are refused with 400 invalid_request before anything else', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url)
  const token = await sessionToken('alice')
  for (const second of ['Host: evil.example', 'host: evil.example', 'HOST: 127.0.0.1']) {
    const answer = await rawRequest(gateway.url, `POST /search-key HTTP/1.1\r\nHost: 127.0.0.1\r\n${second}\r\nAuthorization: Bearer ${token}`, '')
    t.match(answer, /^HTTP\/1\.1 400 /, second)
    t.match(answer, /"error":"invalid_request","message":"The request is not valid: the request carries more than one Host header \(RFC 9112 §3\.2\)\."/)
  }
  const health = await rawRequest(gateway.url, 'GET /healthz HTTP/1.1\r\nHost: a.example\r\nHost: b.example', '')
  t.match(health, /^HTTP\/1\.1 400 /, 'on every route')
  const single = await rawRequest(gateway.url, `POST /search-key HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}`, '')
  t.match(single, /^HTTP\/1\.1 200 /, 'one Host is fine')
  t.equal(standIn.received.length, 0)
})
