// Flat memory after streams close, measured on the live heap (after a full GC) rather than RSS,
// which V8 does not hand back to the OS: the gateway in this process (Redis-free, limits on),
// the stand-in in its own (it keeps conversations, so its heap grows by design), N streams
// opened and closed ROUNDS times.
//
//   node --expose-gc --import tsx bench/heap-after-close.ts [gateway|direct]
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { Agent, request } from 'undici'
import { SignJWT } from 'jose'
import { startGateway } from '../test/helpers/gateway.js'
import { sessionToken, AGENT_ID, TEST_KEYS } from '../test/helpers/fixtures.js'
import { limitsFile } from '../test/helpers/limits.js'
const teardowns: Array<() => unknown> = []
const t = { teardown: (fn: () => unknown) => teardowns.push(fn) }
const child = spawn(process.execPath, ['--import', 'tsx', 'bench/standin-server.ts'], {
  env: {
    ...process.env,
    BENCH_APP_ID: TEST_KEYS.appId,
    BENCH_API_KEY: TEST_KEYS.apiKey,
    BENCH_KEY_ID: TEST_KEYS.keyId,
    BENCH_SECRET_KEY: TEST_KEYS.secretKey,
    BENCH_PACE_MS: '60000'
  },
  stdio: ['ignore', 'pipe', 'inherit']
})
const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
const url = new URL(JSON.parse(String((await lines.next()).value)).url)
const viaGateway = process.argv[2] === 'gateway'
let base = `${url.href.replace(/\/$/, '')}`
let headers: Record<string, string>
if (viaGateway) {
  const gateway = await startGateway(t, url, {
    env: {
      LOG_LEVEL: 'warn',
      ALLOWED_AGENT_IDS: AGENT_ID,
      GATEWAY_CONFIG_FILE: limitsFile({
        user: { max: 0, windowSeconds: 60 },
        routes: { completions: { max: 0, windowSeconds: 60 } },
        streams: { perUser: 10000, global: 100000 }
      })
    }
  })
  base = `${gateway.url}/agent-studio`
  headers = { authorization: `Bearer ${await sessionToken('leaker')}` }
} else {
  const userToken = await new SignJWT({ sub: 'leaker' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: TEST_KEYS.keyId })
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(TEST_KEYS.secretKey))
  headers = { 'x-algolia-application-id': TEST_KEYS.appId, 'x-algolia-api-key': TEST_KEYS.apiKey, 'x-algolia-secure-user-token': userToken }
}
const client = new Agent({ connections: 3000 })
const N = Number(process.env.BENCH_STREAMS ?? 1500)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4)
const heap = () => {
  ;(globalThis as { gc?: () => void }).gc!()
  ;(globalThis as { gc?: () => void }).gc!()
  return Math.round(process.memoryUsage().heapUsed / 1024 / 1024)
}
console.log('start heap MiB', heap())
for (let round = 0; round < ROUNDS; round++) {
  const controllers: AbortController[] = []
  for (let i = 0; i < N; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        const c = new AbortController()
        controllers.push(c)
        const r = await request(`${base}/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5`, {
          method: 'POST',
          dispatcher: client,
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }] }),
          signal: c.signal
        })
        if (r.statusCode !== 200) throw new Error(String(r.statusCode) + (await r.body.text()))
        r.body.on('error', () => undefined)
        await r.body[Symbol.asyncIterator]().next()
      })
    )
  }
  const open = heap()
  controllers.forEach((c) => c.abort())
  for (let n = 0; n < N; n++) await lines.next()
  await new Promise((r) => setTimeout(r, 1000))
  console.log(`round ${round}: open heap ${open} MiB, closed heap ${heap()} MiB`)
}
for (const fn of teardowns.reverse()) await fn()
await client.close()
child.kill()
process.exit(0)
