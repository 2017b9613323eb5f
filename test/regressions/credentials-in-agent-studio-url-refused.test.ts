import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config/load-config.js'
import { gatewayEnv } from '../helpers/fixtures.js'

// Issue 11, item 13: credentials in AGENT_STUDIO_URL's userinfo were printed in the start-up
// line and silently never sent (requests use the origin alone). They are refused at start.

t.test('user:password@ in any configured URL is refused at start, and the message does not repeat it', async (t) => {
  const base = gatewayEnv(new URL('http://127.0.0.1:9/agent-studio'))
  for (const [name, value] of [
    ['AGENT_STUDIO_URL', 'https://ops:hunter2@appid1.algolia.net/agent-studio'],
    ['ALGOLIA_SEARCH_API_URL', 'https://ops:hunter2@appid1.algolia.net'],
    ['SESSION_INTROSPECT_URL', 'https://ops:hunter2@app.example.com/api/session']
  ] as const) {
    const env = { ...base, [name]: value, ...(name === 'SESSION_INTROSPECT_URL' ? { SESSION_JWT_SECRET: undefined } : {}) }
    let problems: readonly string[] = []
    try {
      loadConfig(env, { defaultConfigFile: undefined })
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems
    }
    t.same(problems, [`${name}: must not carry credentials (user:password@); the gateway never sends them, and they would be logged`], name)
    t.notMatch(problems.join('\n'), /hunter2|ops:/, `${name}: the password is not printed`)
  }
})
