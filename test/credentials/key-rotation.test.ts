// @test-process: shared (spawns a gateway process and signals it (SIGHUP), not this one)
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { TEST_KEYS, gatewayEnv } from '../helpers/fixtures.js'
import { startStandIn, testClient } from '../helpers/gateway.js'
import { spawnGateway } from '../helpers/process.js'
import { postCompletion, waitFor } from '../helpers/requests.js'
import { tempDir } from '../helpers/temp-dir.js'

t.test('the user-token key rotates on SIGHUP, from *_FILE secrets, with no failed request under steady traffic', async (t) => {
  const next = { keyId: 'test-kid-2', secret: 'sk-alg-test-secret-rotated-in' }
  // Agent Studio accepts both keys during the rotation window, as the dashboard allows.
  const { standIn, url } = await startStandIn(t, {
    authenticationKeys: new Map([
      [TEST_KEYS.keyId, TEST_KEYS.secretKey],
      [next.keyId, next.secret]
    ])
  })
  const dir = tempDir('asg-secrets-')
  const keyIdFile = join(dir, 'algolia_key_id')
  const secretFile = join(dir, 'algolia_secret_key')
  writeFileSync(keyIdFile, `${TEST_KEYS.keyId}\n`)
  writeFileSync(secretFile, `${TEST_KEYS.secretKey}\n`)
  const gateway = spawnGateway({
    ...gatewayEnv(url, { ALGOLIA_KEY_ID: undefined, ALGOLIA_SECRET_KEY: undefined }),
    ALGOLIA_KEY_ID_FILE: keyIdFile,
    ALGOLIA_SECRET_KEY_FILE: secretFile,
    PORT: '0',
    GATEWAY_CONFIG_FILE: limitsOff(dir)
  })
  t.teardown(() => gateway.child.kill('SIGKILL'))
  const address = String((await gateway.waitForLine((line) => line.msg === 'agent-studio-gateway listening')).address)
  const client = testClient(t)

  const statuses: number[] = []
  let running = true
  const traffic = (async () => {
    while (running) {
      const response = await postCompletion({ gatewayUrl: address, dispatcher: client, user: 'steady-user', query: 'compatibilityMode=ai-sdk-5&stream=false' })
      await response.body.dump()
      statuses.push(response.statusCode)
    }
  })()

  await waitFor(() => statuses.length >= 5, 10_000)
  writeFileSync(keyIdFile, `${next.keyId}\n`)
  writeFileSync(secretFile, `${next.secret}\n`)
  gateway.child.kill('SIGHUP')
  const reloaded = await gateway.waitForLine((line) => line.msg === 'secrets reloaded')
  t.same(reloaded.changed, ['ALGOLIA_KEY_ID/ALGOLIA_SECRET_KEY'], 'the log names what changed, never the values')
  t.equal(reloaded.userTokenKeyId, next.keyId)
  t.notMatch(JSON.stringify(gateway.lines), /sk-alg-test-secret/, 'no secret in any log line')
  const atReload = statuses.length
  await waitFor(() => statuses.length >= atReload + 5, 10_000)
  running = false
  await traffic

  t.ok(
    statuses.every((status) => status === 200),
    `all ${statuses.length} requests succeeded across the rotation`
  )
  const kids = standIn.received.map((r) => r.userToken?.kid)
  t.equal(kids[0], TEST_KEYS.keyId, 'tokens before the reload carry the old kid')
  t.equal(kids.at(-1), next.keyId, 'tokens after it carry the new one')
  const switchAt = kids.indexOf(next.keyId)
  t.ok(
    kids.slice(switchAt).every((kid) => kid === next.keyId),
    'once switched, never back: cached old-key tokens were dropped'
  )
})

function limitsOff(dir: string): string {
  const path = join(dir, 'gateway.yaml')
  writeFileSync(
    path,
    'limits:\n  routes:\n    completions: { max: 0, windowSeconds: 60 }\n  user: { max: 0, windowSeconds: 60 }\n  upstreamBudget: { max: 0 }\n'
  )
  return path
}
