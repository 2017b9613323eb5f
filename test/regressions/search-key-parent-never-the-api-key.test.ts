// @test-process: alone (assigns process.env)
import t from 'tap'
import { Agent, request } from 'undici'
import { ConfigError, loadConfig } from '../../src/config/load-config.js'
import { runDoctor } from '../../src/doctor.js'
import { auditKeys } from '../../src/keys/key-audit.js'
import { TEST_KEYS, gatewayEnv, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'

// Issue 11, item 3: without ALGOLIA_SEARCH_KEY, /search-key derived browser keys from
// ALGOLIA_API_KEY, which has `logs` when conversations are on: a Secured API Key derived from it
// read every user's conversations directly against Algolia. Production started with a warning.

const MISSING =
  'ALGOLIA_SEARCH_KEY: not set, so POST /search-key is off (browser keys are never derived from ALGOLIA_API_KEY); set a search-only key, or ENABLE_SEARCH_KEY=false'
/** Under production the same gap is a requirement, worded as one (issue 19). */
const REQUIRED =
  'ALGOLIA_SEARCH_KEY: required (NODE_ENV=production) while POST /search-key is on (ENABLE_SEARCH_KEY, default true): set a search-only key (never derived from ALGOLIA_API_KEY), or ENABLE_SEARCH_KEY=false'

t.test('without ALGOLIA_SEARCH_KEY, POST /search-key does not exist: no browser key is derived from the API key', async (t) => {
  const { url } = await startStandIn(t)
  const env = { ALGOLIA_SEARCH_KEY: undefined }
  t.same(loadConfig(gatewayEnv(url, env), { defaultConfigFile: undefined }).warnings, [MISSING], 'the start-up log says why')
  const gateway = await startGateway(t, url, { env })
  const response = await request(`${gateway.url}/search-key`, {
    method: 'POST',
    dispatcher: testClient(t),
    headers: { authorization: `Bearer ${await sessionToken('alice')}` }
  })
  t.equal(response.statusCode, 404)
  const body = await response.body.text()
  t.match(JSON.parse(body), { error: 'not_found' })
  t.notMatch(body, /apiKey/)
})

t.test('under NODE_ENV=production a missing ALGOLIA_SEARCH_KEY refuses to start, and doctor says so', async (t) => {
  const { url } = await startStandIn(t)
  const env = gatewayEnv(url, { NODE_ENV: 'production', ALGOLIA_SEARCH_KEY: undefined })
  t.throws(() => loadConfig(env, { defaultConfigFile: undefined }), new ConfigError([REQUIRED]))

  const saved = { ...process.env }
  t.teardown(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
    Object.assign(process.env, saved)
  })
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  process.env.GATEWAY_CONFIG_FILE = ''
  const lines: string[] = []
  t.equal(await runDoctor((line) => lines.push(line)), 1)
  t.match(lines.join('\n'), `✗ configuration is invalid\n    - ${REQUIRED}`)

  const disabled = loadConfig({ ...env, ENABLE_SEARCH_KEY: 'false' }, { defaultConfigFile: undefined })
  t.equal(disabled.config.searchKey.enabled, false, '...unless /search-key is switched off')
})

t.test('the API key (with logs) named as ALGOLIA_SEARCH_KEY fails the key audit, which refuses the start', async (t) => {
  const { url } = await startStandIn(t)
  const { config } = loadConfig(gatewayEnv(url, { NODE_ENV: 'production', ALGOLIA_SEARCH_KEY: TEST_KEYS.apiKey }), { defaultConfigFile: undefined })
  const dispatcher = new Agent()
  t.teardown(() => dispatcher.close())
  const audit = await auditKeys(config, dispatcher)
  t.match(audit.problems, [
    /^ALGOLIA_SEARCH_KEY has ACL logs beyond what the enabled routes need \(search for \/search-key\); create a key with exactly \[search\]/
  ])
})
