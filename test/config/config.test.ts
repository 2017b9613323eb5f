import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config/load-config.js'
import { TEST_KEYS } from '../helpers/fixtures.js'
import { tempDir } from '../helpers/temp-dir.js'

const complete = {
  ALGOLIA_APP_ID: 'APPID1',
  ALGOLIA_API_KEY: 'key',
  ALGOLIA_KEY_ID: 'kid',
  ALGOLIA_SECRET_KEY: 'sk-alg-x',
  ALGOLIA_SEARCH_KEY: 'search-only',
  SESSION_JWT_SECRET: TEST_KEYS.sessionSecret,
  ALLOWED_AGENT_IDS: 'a1, a2',
  ALLOWED_ORIGINS: 'https://app.example.com'
}
const load = (env: Record<string, string | undefined>) => loadConfig(env, { defaultConfigFile: undefined })
const problemsOf = (env: Record<string, string | undefined>): readonly string[] => {
  try {
    load(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  throw new Error('expected a ConfigError')
}
const tempFile = (name: string, content: string) => {
  const path = join(tempDir('asg-config-'), name)
  writeFileSync(path, content)
  return path
}

t.test('with nothing configured the gateway has no demo to fall back on: it names what is missing', async (t) => {
  for (const env of [{}, { NODE_ENV: 'production' }]) {
    const problems = problemsOf(env).join('\n')
    for (const name of ['ALGOLIA_APP_ID', 'ALGOLIA_API_KEY', 'ALGOLIA_KEY_ID', 'ALGOLIA_SECRET_KEY', 'SESSION_JWT_SECRET']) t.match(problems, name)
    t.notMatch(problems, /demo/i, 'the demo is a program of its own (demo/main.ts), not a mode of the gateway')
  }
})

t.test('production with a partial configuration names every missing piece at once', async (t) => {
  const problems = problemsOf({ NODE_ENV: 'production', ALGOLIA_APP_ID: 'APP1' })
  t.same(problems, [
    'ALGOLIA_API_KEY: required (NODE_ENV=production)',
    'ALGOLIA_KEY_ID: required (NODE_ENV=production)',
    'ALGOLIA_SECRET_KEY: required (NODE_ENV=production)',
    'session: set one of SESSION_JWT_SECRET, SESSION_JWT_PUBLIC_KEY, SESSION_JWKS_URL, SESSION_INTROSPECT_URL (NODE_ENV=production)',
    // Issue 19.4: named in the same round as the others, and worded as the requirement it is.
    'ALGOLIA_SEARCH_KEY: required (NODE_ENV=production) while POST /search-key is on (ENABLE_SEARCH_KEY, default true): set a search-only key (never derived from ALGOLIA_API_KEY), or ENABLE_SEARCH_KEY=false',
    'ALLOWED_AGENT_IDS: no agent is allowed, so every completion will be refused with 403'
  ])
})

t.test("keys pasted with quotes or spaces, or the sk-alg- secret in an API key's place, are named at start", async (t) => {
  const problems = problemsOf({
    ...complete,
    ALGOLIA_API_KEY: '"0123456789abcdef0123456789abcdef"',
    ALGOLIA_SEARCH_KEY: 'sk-alg-pasted-in-the-wrong-place',
    ALGOLIA_KEY_ID: 'kid with space'
  })
  t.same(problems, [
    'ALGOLIA_API_KEY: starts or ends with a quote; set the value without quotes (an env file or Secret keeps them as part of the value)',
    'ALGOLIA_KEY_ID: contains white space or a line break; paste the value alone (a file read through ALGOLIA_KEY_ID_FILE may end with one newline, nothing else)',
    'ALGOLIA_SEARCH_KEY: this is an Agent Studio authentication key (sk-alg-…), which belongs in ALGOLIA_SECRET_KEY; ALGOLIA_SEARCH_KEY takes an API key from Settings > API Keys'
  ])
  const swapped = problemsOf({ ...complete, ALGOLIA_API_KEY: 'sk-alg-0123456789', ALGOLIA_SECRET_KEY: '0123456789abcdef' })
  t.same(swapped, [
    'ALGOLIA_API_KEY: this is an Agent Studio authentication key (sk-alg-…), which belongs in ALGOLIA_SECRET_KEY; ALGOLIA_API_KEY takes an API key from Settings > API Keys'
  ])
  const { warnings } = load({ ...complete, ALGOLIA_SECRET_KEY: '0123456789abcdef' })
  t.same(warnings, [
    "ALGOLIA_SECRET_KEY: does not begin with sk-alg-, as Agent Studio's authentication keys do; check it is the secret whose ID is ALGOLIA_KEY_ID (`npm run doctor` proves it)"
  ])
})

t.test('a complete configuration resolves with defaults and the Algolia URL derived from the app id', async (t) => {
  const { config, warnings } = load(complete)
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.policy), 'the config is frozen')
  t.same(warnings, [])
  t.equal(config.algolia.agentStudioUrl.href, 'https://appid1.algolia.net/agent-studio')
  t.same(config.policy.allowedAgentIds, ['a1', 'a2'])
  t.equal(config.server.port, 3000)
  t.equal(config.server.host, '127.0.0.1')
  t.equal(config.userToken.ttlSeconds, 3600)
  t.equal(config.policy.bodyLimitBytes, 2 * 1024 * 1024)
  t.same(config.upstream, { connectTimeoutMs: 5000, firstByteTimeoutMs: 30000, idleTimeoutMs: 60000, totalTimeoutMs: 600000, maxConnections: 16384 })
  t.match(config.session, { kind: 'jwt', userIdClaim: 'sub', cookieName: 'session', issuer: undefined })
})

t.test('each invalid value is reported with its variable name, all at once', async (t) => {
  const problems = problemsOf({
    ...complete,
    PORT: 'eighty',
    USER_TOKEN_TTL: '100000',
    ALLOWED_ORIGINS: 'https://ok.example, https://bad.example/path',
    ALLOWED_AGENT_IDS: 'good, ../bad',
    COMPATIBILITY_MODES: 'ai-sdk-9',
    LOG_LEVEL: 'loud',
    ALLOW_CONFIGURATION: 'yes',
    AGENT_STUDIO_URL: 'ftp://x'
  })
  const text = problems.join('\n')
  for (const name of [
    'PORT',
    'USER_TOKEN_TTL',
    'ALLOWED_ORIGINS',
    'ALLOWED_AGENT_IDS',
    'COMPATIBILITY_MODES',
    'LOG_LEVEL',
    'ALLOW_CONFIGURATION',
    'AGENT_STUDIO_URL'
  ]) {
    t.match(text, new RegExp(`^${name}: `, 'm'), `${name} is named`)
  }
  t.match(text, /USER_TOKEN_TTL: .*86400/)
  t.match(text, /ALLOWED_ORIGINS: each origin is scheme:\/\/host\[:port\] with no path/)
})

t.test('two session methods at once are refused', async (t) => {
  t.match(
    problemsOf({ ...complete, SESSION_JWKS_URL: 'https://id.example/jwks' }).join('\n'),
    /set only one of .* \(found SESSION_JWT_SECRET, SESSION_JWKS_URL\)/
  )
})

t.test('a public key that is not one is refused', async (t) => {
  t.match(
    problemsOf({ ...complete, SESSION_JWT_SECRET: undefined, SESSION_JWT_PUBLIC_KEY: 'not a pem' }).join('\n'),
    /SESSION_JWT_PUBLIC_KEY: not a PEM-encoded public key/
  )
})

t.test('production requires https upstreams and long session secrets', async (t) => {
  const text = problemsOf({
    ...complete,
    NODE_ENV: 'production',
    AGENT_STUDIO_URL: 'http://agent-studio.internal/agent-studio',
    SESSION_JWT_SECRET: 'short'
  }).join('\n')
  t.match(text, /AGENT_STUDIO_URL: must use https under NODE_ENV=production/)
  t.match(text, /SESSION_JWT_SECRET: use at least 32 bytes/)
})

t.test('secrets can come from files (NAME_FILE), not both ways at once', async (t) => {
  const secretFile = tempFile('secret', 'sk-alg-from-file\n')
  const { config } = load({ ...complete, ALGOLIA_SECRET_KEY: undefined, ALGOLIA_SECRET_KEY_FILE: secretFile })
  t.equal(config.algolia.secretKey, 'sk-alg-from-file', 'read with the trailing newline removed')
  t.match(problemsOf({ ...complete, ALGOLIA_SECRET_KEY_FILE: secretFile }).join('\n'), /ALGOLIA_SECRET_KEY and ALGOLIA_SECRET_KEY_FILE are both set/)
  t.match(
    problemsOf({ ...complete, ALGOLIA_API_KEY: undefined, ALGOLIA_API_KEY_FILE: '/nonexistent/key' }).join('\n'),
    /ALGOLIA_API_KEY_FILE: cannot read \/nonexistent\/key \(ENOENT\)/
  )
})

t.test('the policy file sets tunables; environment variables override it', async (t) => {
  const file = tempFile(
    'gateway.yaml',
    ['policy:', '  allowedAgentIds: [from-file]', '  maxMessages: 12', '  allowSearchParameters: true', 'upstream:', '  idleTimeoutMs: 1234'].join('\n')
  )
  const { config } = load({ ...complete, ALLOWED_AGENT_IDS: undefined, GATEWAY_CONFIG_FILE: file, UPSTREAM_IDLE_TIMEOUT_MS: '999' })
  t.same(config.policy.allowedAgentIds, ['from-file'])
  t.equal(config.policy.maxMessages, 12)
  t.equal(config.policy.allowSearchParameters, true)
  t.equal(config.upstream.idleTimeoutMs, 999, 'the environment wins')
  t.equal(config.configFile, file)
})

t.test('a policy file with typos, wrong types or secrets is refused with precise messages', async (t) => {
  const file = tempFile('gateway.yaml', ['policy:', '  maxMesages: 5', '  maxMessages: lots', 'ALGOLIA_API_KEY: oops'].join('\n'))
  const text = problemsOf({ ...complete, GATEWAY_CONFIG_FILE: file }).join('\n')
  t.match(text, /"policy\.maxMesages" is not a known setting/)
  t.match(text, /policy\.maxMessages \(or MAX_MESSAGES\): /)
  t.match(text, /ALGOLIA_API_KEY belongs in the environment, not the policy file/)
  const broken = tempFile('broken.yaml', 'policy: [unclosed')
  t.match(problemsOf({ ...complete, GATEWAY_CONFIG_FILE: broken }).join('\n'), /config file .*broken\.yaml: /)
})

t.test('the shipped config/gateway.yaml is valid and matches the built-in defaults', async (t) => {
  const shipped = loadConfig(complete, { defaultConfigFile: 'config/gateway.yaml' }).config
  const builtIn = load(complete).config
  t.equal(shipped.configFile, 'config/gateway.yaml')
  t.same({ ...shipped.policy, allowedAgentIds: [] }, { ...builtIn.policy, allowedAgentIds: [] })
  t.same(shipped.upstream, builtIn.upstream)
  t.same(shipped.limits, builtIn.limits)
  t.same(shipped.server, builtIn.server)
})
