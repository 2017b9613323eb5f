import { spawn } from 'node:child_process'
import t from 'tap'
import { TEST_KEYS, gatewayEnv } from './helpers/fixtures.js'
import { startStandIn } from './helpers/gateway.js'
import { SHARED_REDIS } from './helpers/limits.js'
import { nodeCommand } from './helpers/process.js'

// Each test waits on its own child process; they share nothing, so they run side by side.
t.jobs = 3

function doctor(env: Record<string, string | undefined>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const [node, ...args] = nodeCommand('src/cli.ts')
    const child = spawn(node!, [...args, 'doctor'], { env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk.toString()))
    child.stderr.on('data', (chunk) => (output += chunk.toString()))
    child.on('exit', (code) => resolve({ code, output }))
  })
}

t.test('doctor on a good configuration: every check passes, exit 0', async (t) => {
  const { url } = await startStandIn(t)
  const { code, output } = await doctor({ ...gatewayEnv(url), REDIS_URL: SHARED_REDIS })
  t.equal(code, 0, output)
  t.match(output, /✓ configuration is valid/)
  t.match(output, /✓ Algolia keys have only the ACLs the enabled routes need/)
  t.match(output, /✓ Agent Studio is reachable at http:\/\/127\.0\.0\.1:\d+/)
  t.match(output, /✓ session JWTs are verified with a shared secret/)
  t.match(output, /✓ Redis answers/)
  t.match(output, /ready: \d+ checks passed/)
  t.notMatch(output, new RegExp(`${TEST_KEYS.apiKey}|${TEST_KEYS.secretKey}`), 'no secret printed')
})

t.test('doctor on a bad configuration: each failure says what to fix, exit 1', async (t) => {
  const { url } = await startStandIn(t, { apiKeys: new Map([[TEST_KEYS.apiKey, ['search', 'logs', 'editSettings']], [TEST_KEYS.searchKey, ['search']]]) })
  const { code, output } = await doctor({ ...gatewayEnv(url), REDIS_URL: 'redis://127.0.0.1:1', SESSION_JWT_SECRET: undefined, SESSION_JWKS_URL: `${url.origin}/no-such-jwks.json` })
  t.equal(code, 1)
  t.match(output, /✗ key audit\n {4}ALGOLIA_API_KEY has ACL editSettings/)
  t.match(output, /✗ JWKS cannot be loaded from .*\n {4}.*check SESSION_JWKS_URL/)
  t.match(output, /✗ Redis is unreachable\n {4}.*check REDIS_URL/)
  t.match(output, /not ready: 3 checks failed/)
})

t.test('doctor on an invalid or empty configuration', async (t) => {
  const invalid = await doctor({ ALGOLIA_APP_ID: 'APP1', PORT: 'x' })
  t.equal(invalid.code, 1)
  t.match(invalid.output, /✗ configuration is invalid\n {4}- /)
  t.match(invalid.output, /PORT: /)
  const empty = await doctor({})
  t.equal(empty.code, 1)
  t.match(empty.output, /nothing is configured: `npm start` would run the embedded DEMO/)
})
