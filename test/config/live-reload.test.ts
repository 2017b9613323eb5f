// @test-process: shared (spawns a gateway process and signals it (SIGHUP), not this one)
import t from 'tap'
import { gatewayEnv } from '../helpers/fixtures.js'
import { startStandIn, testClient } from '../helpers/gateway.js'
import { limitsFile, rewriteLimits } from '../helpers/limits.js'
import { spawnGateway } from '../helpers/process.js'
import { postCompletion } from '../helpers/requests.js'

t.test('SIGHUP applies new limits without a restart, keeps counters, and rejects a bad file', async (t) => {
  const { url } = await startStandIn(t)
  const file = limitsFile({ routes: { completions: { max: 10, windowSeconds: 60 } } })
  const gateway = spawnGateway({ ...gatewayEnv(url), PORT: '0', GATEWAY_CONFIG_FILE: file })
  t.teardown(() => gateway.child.kill('SIGKILL'))
  const listening = await gateway.waitForLine((line) => line.msg === 'agent-studio-gateway listening')
  t.match(listening.limits, { routes: { completions: { max: 10, windowSeconds: 60 } }, streams: { perUser: 5 } }, 'the limits in force are logged at start')
  const address = String(listening.address)
  const client = testClient(t)
  const complete = async () => {
    const response = await postCompletion({ gatewayUrl: address, dispatcher: client, user: 'u1', query: 'compatibilityMode=ai-sdk-5&stream=false' })
    await response.body.dump()
    return response
  }

  for (let i = 0; i < 3; i++) t.equal((await complete()).statusCode, 200)
  t.equal((await complete()).headers['x-ratelimit-remaining'], '6')

  // A connection opened before the reload keeps working through it.
  rewriteLimits(file, { routes: { completions: { max: 5, windowSeconds: 60 } } })
  gateway.child.kill('SIGHUP')
  const reloaded = await gateway.waitForLine((line) => line.msg === 'limits reloaded')
  t.match(reloaded.limits, { routes: { completions: { max: 5 } } }, 'the new limits are logged')
  const afterReload = await complete()
  t.equal(afterReload.statusCode, 200)
  t.equal(afterReload.headers['x-ratelimit-limit'], '5')
  t.equal(afterReload.headers['x-ratelimit-remaining'], '0', 'the count of 5 requests survived the reload')
  t.equal((await complete()).statusCode, 429, 'and the new, lower limit holds at once')

  rewriteLimits(file, 'limits:\n  routes:\n    completions:\n      max: -3\n  streams: { perUser: lots }\n')
  gateway.child.kill('SIGHUP')
  const rejected = await gateway.waitForLine((line) => line.msg === 'reload rejected: the limits in force are unchanged')
  t.equal(rejected.level, 50)
  const problems = (rejected.problems as string[]).join('\n')
  t.match(problems, /limits\.routes\.completions\.max: /)
  t.match(problems, /limits\.streams\.perUser: /)
  t.match(rejected.limits, { routes: { completions: { max: 5 } } })
  t.equal((await complete()).headers['x-ratelimit-limit'], '5', 'the old limits stay in force')
  t.equal(gateway.child.exitCode, null, 'the gateway kept running')
})
