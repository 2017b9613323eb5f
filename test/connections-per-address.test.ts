// Issue 22: an anonymous client holding ~480 idle kept-alive connections filled the connection
// cap, and /healthz on the same listener was refused: liveness probes failed and Kubernetes
// restarted healthy pods. Each address now has a share of the cap.
import { once } from 'node:events'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import t from 'tap'
import { request, Agent } from 'undici'
import { startGateway, startStandIn } from './helpers/gateway.js'

/** A raw connection from `localAddress` (127.0.0.0/8 is all loopback on Linux). */
async function open(url: string, localAddress: string): Promise<Socket> {
  const { hostname, port } = new URL(url)
  const socket = connect({ host: hostname, port: Number(port), localAddress })
  await once(socket, 'connect')
  return socket
}

/** Whether the gateway keeps the connection: it answers a request on it, or closes it unread. */
async function served(socket: Socket): Promise<boolean> {
  // Closed on accept, maybe before this is called: the 'close' event has then already fired.
  if (socket.destroyed || socket.readyState === 'closed') return false
  const answer = new Promise<boolean>((resolve) => {
    let data = ''
    socket.on('data', (chunk) => {
      data += chunk.toString()
      if (data.includes('\r\n\r\n')) resolve(data.startsWith('HTTP/1.1 200'))
    })
    socket.on('close', () => resolve(false))
    socket.on('error', () => resolve(false))
  })
  socket.write('GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n')
  return answer
}

t.test('one address over its share is closed on accept; another address and the probes are served', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { MAX_CONNECTIONS_PER_ADDRESS: '3', TRUSTED_PROXIES: '127.0.0.9' } })
  const sockets: Socket[] = []
  t.teardown(() => sockets.forEach((socket) => socket.destroy()))
  for (let n = 0; n < 5; n++) sockets.push(await open(gateway.url, '127.0.0.2'))
  const outcomes = []
  for (const socket of sockets) outcomes.push(await served(socket))
  t.same(outcomes, [true, true, true, false, false], 'three kept (idle, kept alive), the next two closed unread')

  const other = new Agent({ localAddress: '127.0.0.3' })
  t.teardown(() => other.close())
  const probe = await request(`${gateway.url}/healthz`, { dispatcher: other })
  t.equal(probe.statusCode, 200, 'another address, and the liveness probe, are served')
  await probe.body.dump()

  const proxy: Socket[] = []
  t.teardown(() => proxy.forEach((socket) => socket.destroy()))
  for (let n = 0; n < 5; n++) proxy.push(await open(gateway.url, '127.0.0.9'))
  const proxied = []
  for (const socket of proxy) proxied.push(await served(socket))
  t.same(proxied, [true, true, true, true, true], 'a trusted proxy is exempt: its connections carry many clients')

  sockets[0]!.destroy()
  await once(sockets[0]!, 'close')
  // The gateway sees the close a moment later; a new connection is kept once it has.
  let again = false
  for (let attempt = 0; attempt < 50 && !again; attempt++) {
    const socket = await open(gateway.url, '127.0.0.2')
    sockets.push(socket)
    again = await served(socket)
  }
  t.ok(again, 'a connection closed frees its place')

  const metrics = await request(`${gateway.url}/metrics`)
  t.match(await metrics.body.text(), /^gateway_connections_refused_total\{reason="per_address"\} [2-9]\d*$/m, 'the refusals are counted')
})
