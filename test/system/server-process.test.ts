// @test-process: alone (starts gateway and demo processes and signals them: slow)
import t from 'tap'
import { AGENT_ID, gatewayEnv } from '../helpers/fixtures.js'
import { startStandIn, testClient } from '../helpers/gateway.js'
import { spawnGateway } from '../helpers/process.js'
import { postCompletion } from '../helpers/requests.js'

t.test('NODE_ENV=production with nothing configured refuses to start and names what is missing', async (t) => {
  const gateway = spawnGateway({ NODE_ENV: 'production' })
  const { code } = await gateway.exited
  t.equal(code, 1)
  const stderr = gateway.stderr()
  t.match(stderr, /Invalid configuration/)
  for (const name of ['ALGOLIA_APP_ID', 'ALGOLIA_API_KEY', 'ALGOLIA_KEY_ID', 'ALGOLIA_SECRET_KEY', 'SESSION_JWT_SECRET', 'ALLOWED_AGENT_IDS'])
    t.match(stderr, name)
  t.notMatch(stderr, /DEMO MODE/)
})

t.test('SIGTERM lets a stream in flight finish, then the process exits cleanly', async (t) => {
  const { standIn, url } = await startStandIn(t, { paceMs: 30 })
  const gateway = spawnGateway({ ...gatewayEnv(url), PORT: '0', SHUTDOWN_GRACE_SECONDS: '20' })
  t.teardown(() => gateway.child.kill('SIGKILL'))
  const listening = await gateway.waitForLine((line) => line.msg === 'agent-studio-gateway listening')
  const address = String(listening.address)
  t.equal(listening.upstream, url.href)
  t.notMatch(JSON.stringify(gateway.lines), /sk-alg-test|test-search-api-key/, 'the start-up line carries no secret')

  const response = await postCompletion({ gatewayUrl: address, dispatcher: testClient(t), user: 'late-user', agentId: AGENT_ID })
  const chunks = response.body[Symbol.asyncIterator]()
  let text = String((await chunks.next()).value)
  gateway.child.kill('SIGTERM')
  await gateway.waitForLine((line) => /shutting down/.test(String(line.msg)))
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) text += String(next.value)
  t.ok(text.endsWith('data: [DONE]\n\n'), 'the stream in flight completed')
  const { code } = await gateway.exited
  t.equal(code, 0)
  t.equal(standIn.openStreams(), 0)
})

t.test('with nothing configured, the gateway itself refuses to start: it has no demo mode', async (t) => {
  const gateway = spawnGateway({ PORT: '0' })
  t.equal((await gateway.exited).code, 1)
  t.match(gateway.stderr(), /Invalid configuration/)
  t.notMatch(gateway.stderr(), /DEMO/)
})

t.test('with nothing configured, npm start (demo/main.ts) runs the loudly labelled demo', async (t) => {
  const gateway = spawnGateway({ PORT: '0' }, { entry: 'demo/main.ts' })
  t.teardown(() => gateway.child.kill('SIGKILL'))
  // The demo logs through pino-pretty, so look at the raw output instead of JSON lines.
  await new Promise<void>((resolve, reject) => {
    let out = ''
    // Bounds a hang only, as generous as waitForLine's: a loaded 2-core machine took over 15 s.
    const timer = setTimeout(() => reject(new Error(`no demo banner; output: ${out}`)), 30_000)
    gateway.child.stdout.on('data', (chunk) => {
      out += chunk.toString()
      if (out.includes('DEMO MODE — NOT FOR PRODUCTION')) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
  gateway.child.kill('SIGTERM')
  t.equal((await gateway.exited).code, 0)
})
