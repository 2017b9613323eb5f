// Regression (issue 19.8): "loopback" was any text beginning `127.`: a forwarded address
// `127.0.0.1.evil` passed /metrics' loopback test behind a same-host proxy, and an
// `http://127.0.0.1.evil.example` upstream passed production's https rule.
import t from 'tap'
import { request } from 'undici'
import { ConfigError, loadConfig } from '../../src/config/load-config.js'
import { PRODUCTION_ENV } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'

t.test('behind a same-host proxy, a client forwarding "127.0.0.1.evil" is not loopback to /metrics', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { TRUSTED_PROXIES: '127.0.0.1' } })
  const client = testClient(t)
  for (const forged of ['127.0.0.1.evil', '127.evil.example', '127.1']) {
    const response = await request(`${gateway.url}/metrics`, { dispatcher: client, headers: { 'x-forwarded-for': forged } })
    t.equal(response.statusCode, 404, `${forged} is refused`)
    t.match(await response.body.json(), { error: 'not_found' })
  }
  const direct = await request(`${gateway.url}/metrics`, { dispatcher: client })
  t.equal(direct.statusCode, 200, 'the host itself still scrapes')
  await direct.body.dump()
})

t.test('under production an http upstream on a name beginning 127. is refused; real loopback is not', async (t) => {
  const env = PRODUCTION_ENV
  const problems = (extra: Record<string, string>) => {
    try {
      loadConfig({ ...env, ...extra }, { defaultConfigFile: undefined })
      return []
    } catch (error) {
      if (error instanceof ConfigError) return error.problems
      throw error
    }
  }
  t.same(problems({ AGENT_STUDIO_URL: 'http://127.0.0.1.evil.example/agent-studio' }), ['AGENT_STUDIO_URL: must use https under NODE_ENV=production'])
  t.same(problems({ AGENT_STUDIO_URL: 'http://127.0.0.1:4000/agent-studio' }), [], 'a loopback stand-in or sidecar is fine')
  t.same(problems({ AGENT_STUDIO_URL: 'http://[::1]:4000/agent-studio' }), [])
})
