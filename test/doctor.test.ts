// @test-process: alone (sets t.jobs; one test spawns the CLI)
import { spawn } from 'node:child_process'
import { Redis } from 'ioredis'
import t from 'tap'
import { runDoctor } from '../src/doctor.js'
import { AGENT_ID, TEST_KEYS, gatewayEnv } from './helpers/fixtures.js'
import { startStandIn } from './helpers/gateway.js'
import { SHARED_REDIS, limitsFile, redisNamespace } from './helpers/limits.js'
import { nodeCommand } from './helpers/process.js'

// Each test waits on its own doctor run; they share nothing, so they run side by side.
t.jobs = 3

/** doctor as the CLI runs it, in this process: its output and the exit code it returns. */
async function doctor(env: Record<string, string | undefined>): Promise<{ code: number | null; output: string }> {
  const lines: string[] = []
  const code = await runDoctor((line) => lines.push(line), env)
  return { code, output: `${lines.join('\n')}\n` }
}

/** `agent-studio-gateway doctor` in a process of its own: what an operator runs. */
function doctorProcess(env: Record<string, string | undefined>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const [node, ...args] = nodeCommand('src/cli.ts')
    const child = spawn(node!, [...args, 'doctor'], { env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk.toString()))
    child.stderr.on('data', (chunk) => (output += chunk.toString()))
    child.on('exit', (code) => resolve({ code, output }))
  })
}

t.test('the CLI runs doctor and exits with its outcome', async (t) => {
  const { url } = await startStandIn(t)
  const good = await doctorProcess({ ...gatewayEnv(url), REDIS_URL: SHARED_REDIS })
  t.equal(good.code, 0, good.output)
  t.match(good.output, /ready: \d+ checks passed/)
  const bad = await doctorProcess({ ALGOLIA_APP_ID: 'APP1', PORT: 'x' })
  t.equal(bad.code, 1)
  t.match(bad.output, /✗ configuration is invalid/)
})

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
  const { url } = await startStandIn(t, {
    apiKeys: new Map([
      [TEST_KEYS.apiKey, ['search', 'logs', 'editSettings']],
      [TEST_KEYS.searchKey, ['search']]
    ])
  })
  const { code, output } = await doctor({
    ...gatewayEnv(url),
    REDIS_URL: 'redis://127.0.0.1:1',
    SESSION_JWT_SECRET: undefined,
    SESSION_JWKS_URL: `${url.origin}/no-such-jwks.json`
  })
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
  t.match(empty.output, /✗ configuration is invalid/)
  for (const name of ['ALGOLIA_APP_ID', 'ALGOLIA_API_KEY', 'ALGOLIA_KEY_ID', 'ALGOLIA_SECRET_KEY', 'SESSION_JWT_SECRET'])
    t.match(empty.output, name, `names ${name}`)
})

t.test('doctor proves the user-token secret and every agent: a wrong ALGOLIA_SECRET_KEY fails, exit 1', async (t) => {
  const { url, standIn } = await startStandIn(t)
  const good = await doctor({ ...gatewayEnv(url), ALLOWED_AGENT_IDS: `${AGENT_ID},agent-2` })
  t.equal(good.code, 0, good.output)
  t.match(
    good.output,
    /✓ Agent Studio accepts user tokens signed with ALGOLIA_KEY_ID=test-kid-1\n {4}probe: GET \/1\/agents\/\{agentId\}\/conversations\?page=1&limit=1 as user "agent-studio-gateway-doctor" \(ACL logs; 1 request per agent against Agent Studio's ~100 requests\/min per application, no LLM call\)/
  )
  t.match(good.output, new RegExp(`✓ agent ${AGENT_ID} exists in application ${TEST_KEYS.appId}`))
  t.match(good.output, new RegExp(`✓ agent agent-2 exists in application ${TEST_KEYS.appId}`))
  t.match(good.output, /\nready: \d+ checks passed/)
  const probes = standIn.received.filter((request) => request.path.endsWith('/conversations') && request.query.limit === '1')
  t.equal(probes.length, 2, 'one probe per agent')
  t.ok(
    probes.every((probe) => typeof probe.headers['x-algolia-secure-user-token'] === 'string'),
    'each carries a minted user token'
  )

  const wrong = await doctor({ ...gatewayEnv(url), ALGOLIA_SECRET_KEY: 'sk-alg-not-the-secret-of-test-kid-1' })
  t.equal(wrong.code, 1, wrong.output)
  t.match(
    wrong.output,
    /✗ Agent Studio refuses user tokens signed with ALGOLIA_KEY_ID=test-kid-1 \(HTTP 401: Invalid signature\)\n {4}ALGOLIA_SECRET_KEY must be the sk-alg-… authentication key whose ID is ALGOLIA_KEY_ID/
  )
  t.notMatch(wrong.output, /\nready/)
  t.notMatch(wrong.output, /sk-alg-not-the-secret/, 'the secret is never printed')
})

t.test('doctor fails on an agent id the application does not have, exit 1', async (t) => {
  const { url } = await startStandIn(t)
  const { code, output } = await doctor({ ...gatewayEnv(url), ALLOWED_AGENT_IDS: `${AGENT_ID},agent-1-typo` })
  t.equal(code, 1, output)
  t.match(output, new RegExp(`✓ agent ${AGENT_ID} exists`))
  t.match(
    output,
    new RegExp(
      `✗ agent agent-1-typo is not an agent of application ${TEST_KEYS.appId} \\(HTTP 404: Agent agent-1-typo not found\\)\\n {4}check ALLOWED_AGENT_IDS`
    )
  )
  t.match(output, /not ready: 1 check failed/)
})

t.test('doctor with conversations and user data off says "not checked" for the secret and the agents, never "ready"', async (t) => {
  const { url, standIn } = await startStandIn(t, {
    apiKeys: new Map([
      [TEST_KEYS.apiKey, ['search']],
      [TEST_KEYS.searchKey, ['search']]
    ])
  })
  const { code, output } = await doctor({ ...gatewayEnv(url), ENABLE_CONVERSATIONS: 'false', ENABLE_USER_DATA: 'false' })
  t.equal(code, 0, output)
  t.match(output, /\? not checked: ALGOLIA_SECRET_KEY signs user tokens Agent Studio accepts/)
  t.match(output, /\? not checked: ALLOWED_AGENT_IDS \(agent-1\) exist/)
  t.match(output, /needs the logs ACL/)
  t.match(output, /\nnot fully checked: \d+ checks passed, 2 not checked/)
  t.notMatch(output, /\nready/)
  t.equal(standIn.received.filter((request) => request.path.includes('/conversations')).length, 0, 'no call the key may not make')
})

t.test('doctor finds an agent whose approved domains refuse the gateway, and names the fix (issue 23)', async (t) => {
  const { url, standIn } = await startStandIn(t, { approvedDomains: new Map([[AGENT_ID, ['shop.example.com']]]) })
  const missing = await doctor(gatewayEnv(url))
  t.equal(missing.code, 1, missing.output)
  t.match(
    missing.output,
    new RegExp(
      `✗ agent ${AGENT_ID} has approved domains and refuses the gateway's no Origin \\(UPSTREAM_ORIGIN is not set\\) \\(HTTP 403: Origin not allowed[^\\n]*\\)\\n {4}set UPSTREAM_ORIGIN \\(every agent\\) or agents\\.${AGENT_ID}\\.upstreamOrigin`
    )
  )
  const wrong = await doctor({ ...gatewayEnv(url), UPSTREAM_ORIGIN: 'https://elsewhere.example.com' })
  t.equal(wrong.code, 1)
  t.match(wrong.output, /https:\/\/elsewhere\.example\.com is not one of the agent's approved domains: set UPSTREAM_ORIGIN to one that is/)
  const fixed = await doctor({ ...gatewayEnv(url), UPSTREAM_ORIGIN: 'https://shop.example.com' })
  t.equal(fixed.code, 0, fixed.output)
  t.match(fixed.output, new RegExp(`✓ agent ${AGENT_ID} accepts the gateway's Origin https://shop\\.example\\.com \\(UPSTREAM_ORIGIN\\)`))
  const probes = standIn.received.filter((r) => r.path.endsWith('/completions'))
  t.ok(probes.length >= 3 && probes.every((r) => r.query.cache === 'false' && r.query.memory === 'false'), 'the probe never fills the cache nor reads memory')
})

t.test('doctor spends its probes from the deployment\'s budget, and says "not checked" when it has no room (issue 20)', async (t) => {
  const { url, standIn } = await startStandIn(t)
  const namespace = redisNamespace(t)
  const policy = limitsFile({ upstreamBudget: { max: 10, windowSeconds: 60, perUser: 0, maxWaitMs: 0 } })
  const env = { ...gatewayEnv(url), REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: namespace, GATEWAY_CONFIG_FILE: policy }
  const redis = new Redis(SHARED_REDIS)
  t.teardown(() => redis.disconnect())
  const budgetKey = `{${namespace}}upstream:budget`

  const room = await doctor(env)
  t.equal(room.code, 0, room.output)
  t.equal(Number(await redis.get(budgetKey)), 2, 'two probes for the one agent, spent from the budget')

  await redis.set(budgetKey, '10', 'PX', 60_000)
  const before = standIn.received.length
  const full = await doctor(env)
  t.equal(full.code, 0, full.output)
  t.match(
    full.output,
    /\? not checked: ALGOLIA_SECRET_KEY, ALLOWED_AGENT_IDS and approved domains\n {4}the deployment's Agent Studio budget \(limits\.upstreamBudget\) has no room for doctor's 2 probes now; run doctor again in \d+ s/
  )
  t.match(full.output, /\nnot fully checked: /)
  t.equal(standIn.received.length, before, 'no probe was sent')
})
