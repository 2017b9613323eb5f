import t from 'tap'
import { Client } from 'undici'
import { AGENT_ID, completionBody, sessionToken } from '../helpers/fixtures.js'
import { startGateway } from '../helpers/gateway.js'
import { startHostileUpstream } from '../helpers/hostile-upstream.js'

// Issue 11, item 8: upstream content-length passed through on relayed answers. When the stream
// broke, the error event was written past the declared length (the next response on the
// kept-alive connection then started inside this one), or the answer ended short and hung.

t.test('a stream that declares a length and breaks: no content-length, an error event, and the kept-alive connection still works', async (t) => {
  const { url } = await startHostileUpstream(t, (request, response) => {
    request.resume()
    if (request.url!.includes('stream=false')) {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' })
      response.end('{}')
      return
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'content-length': '100000', 'x-vercel-ai-ui-message-stream': 'v1' })
    response.write('data: {"type":"start"}\n\n')
    response.write('data: {"type":"text-delta","id":"0","delta":"Hel"}\n\n', () => response.destroy())
  })
  const gateway = await startGateway(t, url)
  // One connection, reused: if the first answer's framing were wrong, the second would fail.
  const client = new Client(gateway.url, { pipelining: 1 })
  t.teardown(() => client.close())
  const token = await sessionToken('alice')
  const post = (query: string) =>
    client.request({
      method: 'POST',
      path: `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5${query}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(completionBody())
    })

  const broken = await post('')
  t.equal(broken.statusCode, 200)
  t.equal(broken.headers['content-length'], undefined, "upstream's length is not ours to promise")
  t.equal(broken.headers['transfer-encoding'], 'chunked')
  const text = await broken.body.text()
  t.match(text, /^data: \{"type":"start"\}\n\n/)
  t.match(text, /data: \{"type":"error".*\}\n\n$/, 'the break is told in-band, after what arrived')

  const json = await post('&stream=false')
  t.equal(json.statusCode, 200, 'the same connection serves the next answer')
  t.equal(json.headers['content-length'], undefined, 'a relayed JSON body is framed by the gateway too')
  t.equal(await json.body.text(), '{}')
})
