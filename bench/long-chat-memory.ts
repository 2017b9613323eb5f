// Memory per open stream for a long chat (issue 10). A realistic 200-message chat with search
// results (test/helpers/long-chat.ts, about 1 MiB of JSON) is sent N times to the gateway, in
// this process, whose upstream is a bare HTTP server that discards request bodies and keeps each
// stream open; the heap growth divided by N is what one open long-chat stream costs the gateway.
//
//   node --expose-gc --import tsx bench/long-chat-memory.ts      (LONG_CHAT_STREAMS=40)
import { createServer } from 'node:http'
import type { ServerResponse } from 'node:http'
import { Agent, request } from 'undici'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config/load-config.js'
import { createLogger } from '../src/logging/logger.js'
import { gatewayEnv, sessionToken } from '../test/helpers/fixtures.js'
import { longChat } from '../test/helpers/long-chat.js'

const N = Number(process.env.LONG_CHAT_STREAMS ?? 40)
/**
 * What the process keeps: the JavaScript heap and the memory of Buffers (outside the heap), so
 * that moving the body from a string into a Buffer is not mistaken for letting it go.
 */
const retained = () => {
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with node --expose-gc')

const held: ServerResponse[] = []
const upstream = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: {"type":"start"}\n\n')
    held.push(res)
  })
})
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
const url = new URL(`http://127.0.0.1:${(upstream.address() as { port: number }).port}/agent-studio`)
const { config } = loadConfig(gatewayEnv(url, { LOG_LEVEL: 'silent' }), { defaultConfigFile: undefined })
const app = await buildApp(config, { logger: createLogger({ level: 'silent', pretty: false }) })
const base = await app.listen({ host: '127.0.0.1', port: 0 })
const client = new Agent({ connections: N + 4 })

// Buffers made once, before the measurement: the client in this process then keeps no copy per
// request (undici holds the Buffer it is given), so what grows is the gateway's alone.
const chats = {
  short: Buffer.from(JSON.stringify({ messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'What is the return policy?' }] }] })),
  long: Buffer.from(JSON.stringify({ messages: longChat() }))
}
for (const [name, body] of Object.entries(chats)) {
  gc()
  gc()
  const before = retained()
  const responses = []
  for (let i = 0; i < N; i++) {
    responses.push(
      await request(`${base}/agent-studio/1/agents/agent-1/completions?compatibilityMode=ai-sdk-5`, {
        method: 'POST',
        dispatcher: client,
        body,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await sessionToken(`${name}-${i}`)}` }
      })
    )
  }
  while (held.length < N) await new Promise((resolve) => setImmediate(resolve))
  gc()
  gc()
  const perStream = (retained() - before) / N
  console.log(`${name} chat: ${body.length} bytes, ${N} open streams, gateway heap and buffers per open stream ${(perStream / 1024).toFixed(0)} KiB`)
  for (const res of held.splice(0)) res.end()
  for (const response of responses) await response.body.dump()
}
await client.close()
await app.close()
upstream.close()
