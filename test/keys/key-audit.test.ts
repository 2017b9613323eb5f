// @test-process: shared (spawns gateway processes to see them refuse to start)
import t from 'tap'
import type { Test } from 'tap'
import { Agent } from 'undici'
import { auditKeys } from '../../src/keys/key-audit.js'
import { loadConfig } from '../../src/config/load-config.js'
import { TEST_KEYS, gatewayEnv } from '../helpers/fixtures.js'
import { startStandIn } from '../helpers/gateway.js'
import { spawnGateway } from '../helpers/process.js'

const ADMIN = 'test-admin-key-do-not-deploy'

async function audit(
  t: Test,
  acls: { api: string[]; search?: string[] },
  env: Record<string, string> = {},
  details = { maxQueriesPerIPPerHour: 500, referers: ['https://app.example.com/*'] }
) {
  const apiKeys = new Map<string, string[]>([[TEST_KEYS.apiKey, acls.api]])
  if (acls.search) apiKeys.set(TEST_KEYS.searchKey, acls.search)
  const { url } = await startStandIn(t, {
    apiKeys,
    adminKey: ADMIN,
    keyDetails: new Map([
      [TEST_KEYS.searchKey, details],
      [TEST_KEYS.apiKey, details]
    ])
  })
  const { config } = loadConfig(gatewayEnv(url, env), { defaultConfigFile: undefined })
  const dispatcher = new Agent()
  t.teardown(() => dispatcher.close())
  return auditKeys(config, dispatcher)
}

t.test('search-only keys (and logs where conversations need it) pass', async (t) => {
  const result = await audit(t, { api: ['search', 'logs'], search: ['search'] })
  t.same(result, { problems: [], unverifiable: [], warnings: [] })
})

t.test('logs is refused when conversations and user data are off, accepted when on', async (t) => {
  const off = await audit(t, { api: ['search', 'logs'], search: ['search'] }, { ENABLE_CONVERSATIONS: 'false', ENABLE_USER_DATA: 'false' })
  t.same(off.problems, [
    'ALGOLIA_API_KEY has ACL logs beyond what the enabled routes need (search for completions, tasks, feedback (ENABLE_FEEDBACK)); create a key with exactly [search] in the Algolia dashboard (Settings > API Keys) and use it instead'
  ])
  const on = await audit(t, { api: ['search', 'logs'], search: ['search'] }, { ENABLE_CONVERSATIONS: 'true', ENABLE_USER_DATA: 'false' })
  t.same(on.problems, [])
})

for (const acl of ['addObject', 'deleteObject', 'editSettings']) {
  t.test(`a key with ${acl} is refused with a message naming the key, the ACL and the fix`, async (t) => {
    const result = await audit(t, { api: ['search', 'logs', acl], search: ['search'] })
    t.equal(result.problems.length, 1)
    t.match(
      result.problems[0],
      new RegExp(
        `^ALGOLIA_API_KEY has ACL ${acl} beyond what the enabled routes need \\(search for completions, tasks, feedback \\(ENABLE_FEEDBACK\\); logs for conversations \\(ENABLE_CONVERSATIONS\\), userData \\(ENABLE_USER_DATA\\)\\); create a key with exactly \\[search, logs\\]`
      )
    )
  })
}

t.test('the Admin API key is refused as such', async (t) => {
  const { url } = await startStandIn(t, { apiKeys: new Map([[TEST_KEYS.searchKey, ['search']]]), adminKey: ADMIN })
  const { config } = loadConfig(gatewayEnv(url, { ALGOLIA_API_KEY: ADMIN }), { defaultConfigFile: undefined })
  const dispatcher = new Agent()
  t.teardown(() => dispatcher.close())
  const result = await auditKeys(config, dispatcher)
  t.match(result.problems, [/^ALGOLIA_API_KEY is the Admin API key: it can do anything, including deleting indices and keys\. Never deploy it/])
})

t.test('the parent of browser keys must be search-only, and gets hygiene warnings', async (t) => {
  const shared = await audit(t, { api: ['search', 'logs'] }, { ALGOLIA_SEARCH_KEY: TEST_KEYS.apiKey })
  t.match(
    shared.problems,
    [/^ALGOLIA_SEARCH_KEY has ACL logs beyond what the enabled routes need \(search for \/search-key\)/],
    'the API key (with logs) as the parent of browser keys is refused'
  )
  const separate = await audit(t, { api: ['search', 'logs'], search: ['search', 'logs'] })
  t.match(
    separate.problems,
    [/^ALGOLIA_SEARCH_KEY has ACL logs beyond what the enabled routes need \(search for \/search-key\)/],
    'a separate parent needs search only'
  )
  const bare = await audit(t, { api: ['search', 'logs'], search: ['search'] }, {}, { maxQueriesPerIPPerHour: 0, referers: [] })
  t.same(bare.problems, [])
  t.match(bare.warnings, [/ALGOLIA_SEARCH_KEY has no maxQueriesPerIPPerHour/, /ALGOLIA_SEARCH_KEY has no referer restriction/])
})

t.test('a key Algolia rejects is refused', async (t) => {
  const result = await audit(t, { api: ['search', 'logs'], search: ['search'] }, { ALGOLIA_SEARCH_KEY: 'never-created-key' })
  t.same(
    result.problems,
    [
      'ALGOLIA_SEARCH_KEY: Algolia refused to describe it (HTTP 403: "Invalid Application-ID or API key"); Algolia does not accept this key for application TESTAPP01: check ALGOLIA_APP_ID, and that ALGOLIA_SEARCH_KEY is the key itself (from Settings > API Keys, without quotes or spaces; not the sk-alg- secret, which is ALGOLIA_SECRET_KEY)'
    ],
    'Algolia\'s own words, and what they usually mean (issue 19: a bare "HTTP 403" before)'
  )
})

t.test('a Search API that has no key endpoint cannot verify anything', async (t) => {
  const Fastify = (await import('fastify')).default
  const bare = Fastify()
  await bare.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => bare.close())
  const { url } = await startStandIn(t)
  const { config } = loadConfig(gatewayEnv(url, { ALGOLIA_SEARCH_API_URL: `http://127.0.0.1:${(bare.server.address() as { port: number }).port}` }), {
    defaultConfigFile: undefined
  })
  const dispatcher = new Agent()
  t.teardown(() => dispatcher.close())
  const result = await auditKeys(config, dispatcher)
  t.same(result.problems, [])
  t.match(result.unverifiable, [
    /^ALGOLIA_API_KEY: http:\/\/127\.0\.0\.1:\d+ does not know this key for application TESTAPP01 \(GET \/1\/keys\/\{key\} answered 404\)/
  ])
})

t.test('an unreachable audit endpoint fails closed, saying how to skip it', async (t) => {
  const { url } = await startStandIn(t)
  const { config } = loadConfig(gatewayEnv(url, { ALGOLIA_SEARCH_API_URL: 'http://127.0.0.1:9' }), { defaultConfigFile: undefined })
  const dispatcher = new Agent()
  t.teardown(() => dispatcher.close())
  const result = await auditKeys(config, dispatcher)
  t.match(result.unverifiable, [/^key audit: http:\/\/127\.0\.0\.1:9 could not be reached .*set SKIP_KEY_AUDIT=true for an air-gapped start$/])
})

t.test('an audit that cannot tell: production refuses to start, development warns and starts', async (t) => {
  const { url } = await startStandIn(t)
  const env = { ...gatewayEnv(url), ALGOLIA_SEARCH_API_URL: 'http://127.0.0.1:9', PORT: '0' }
  // Both start at once (they share nothing): two process start-ups in the time of one.
  const production = spawnGateway({ ...env, NODE_ENV: 'production', SESSION_JWT_SECRET: 'a-production-grade-session-secret-0123456789' })
  const development = spawnGateway(env)
  t.teardown(() => development.child.kill('SIGKILL'))
  t.equal((await production.exited).code, 1)
  t.match(production.stderr(), /refusing to start, the key audit found 1 problem:\n {2}- key audit: http:\/\/127\.0\.0\.1:9 could not be reached/)

  const warning = await development.waitForLine((line) => /could not be reached .*\(refused under NODE_ENV=production\)/.test(String(line.msg)))
  t.equal(warning.level, 40)
  await development.waitForLine((line) => line.msg === 'agent-studio-gateway listening')
})

t.test('the gateway refuses to start on a failed audit, and starts (loudly) when told to skip it', async (t) => {
  const { url } = await startStandIn(t, {
    apiKeys: new Map([
      [TEST_KEYS.apiKey, ['search', 'logs', 'deleteObject']],
      [TEST_KEYS.searchKey, ['search']]
    ])
  })
  const refused = spawnGateway({ ...gatewayEnv(url), PORT: '0' })
  const skipped = spawnGateway({ ...gatewayEnv(url), PORT: '0', SKIP_KEY_AUDIT: 'true' })
  t.teardown(() => skipped.child.kill('SIGKILL'))
  t.equal((await refused.exited).code, 1)
  t.match(refused.stderr(), /refusing to start, the key audit found 1 problem:\n {2}- ALGOLIA_API_KEY has ACL deleteObject/)

  const warning = await skipped.waitForLine((line) => /KEY AUDIT SKIPPED/.test(String(line.msg)))
  t.equal(warning.level, 40)
  await skipped.waitForLine((line) => line.msg === 'agent-studio-gateway listening')
})
