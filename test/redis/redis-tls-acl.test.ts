// @test-process: alone (starts a TLS Redis of its own, with certificates made by openssl)
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { gatewayAclRules } from '../../src/redis/acl.js'
import { keyPrefix } from '../../src/redis/keys.js'
import { gatewayEnv } from '../helpers/fixtures.js'
import { startStandIn } from '../helpers/gateway.js'
import { nodeCommand, spawnGateway } from '../helpers/process.js'
import { ask, makeCertificates, startTlsRedis, twoReplicas, until } from '../helpers/redis-topologies.js'
import { tempDir } from '../helpers/temp-dir.js'

// Issue 21: TLS and ACL users. A Redis on TLS only, client certificates required (made by
// openssl for this test), the default user behind a password, and the gateway's own ACL user with
// exactly the rules docs/operations.md documents (src/redis/acl.ts), and users missing one command.

const ADMIN = 'admin-password-for-this-test'
const NAMESPACE = 'asg-tls:'
const certificates = await makeCertificates()
const redis = await startTlsRedis(t, certificates, ADMIN)
const passwordFile = join(tempDir('asg-redis-password-'), 'password')
writeFileSync(passwordFile, 'gateway-password-for-this-test\n')

/** Creates an ACL user with the documented rules, minus `without` (a command). */
async function aclUser(name: string, without?: string): Promise<void> {
  const rules = gatewayAclRules(keyPrefix(NAMESPACE))
    .split(' ')
    .filter((rule) => rule !== `+${without}`)
  await ask(redis.port, 'ACL', ['SETUSER', name, 'reset', '>gateway-password-for-this-test', ...rules], redis.adminOptions)
}
await aclUser('asg-gateway')
await aclUser('asg-no-evalsha', 'evalsha')
await aclUser('asg-no-zadd', 'zadd')

const tlsEnv = (user: string) => ({
  REDIS_URL: `rediss://127.0.0.1:${redis.port}`,
  REDIS_USERNAME: user,
  REDIS_PASSWORD_FILE: passwordFile,
  REDIS_TLS_CA_FILE: certificates.ca,
  REDIS_TLS_CERT_FILE: certificates.clientCert,
  REDIS_TLS_KEY_FILE: certificates.clientKey,
  REDIS_NAMESPACE: NAMESPACE
})

t.test('docs/operations.md documents exactly the ACL the code needs', async (t) => {
  t.match(readFileSync('docs/operations.md', 'utf8'), `ACL SETUSER asg-gateway >PASSWORD ${gatewayAclRules('{asg:<app id>:}')}`)
})

t.test('over TLS with a client certificate, as an ACL user with the documented rules: limits and caps work, and Redis denied nothing', async (t) => {
  await ask(redis.port, 'ACL', ['LOG', 'RESET'], redis.adminOptions)
  const s = await twoReplicas(t, tlsEnv('asg-gateway'), {
    routes: { completions: { max: 3, windowSeconds: 60 } },
    streams: { perUser: 1, global: 100, leaseSeconds: 3 }
  })
  t.match(
    s.a.logs.lines.find((line) => line.msg === 'Redis connected: limits and stream caps are shared across replicas'),
    { mode: 'standalone', server: `127.0.0.1:${redis.port}` }
  )
  const remaining = [await s.complete(s.a, 'kim'), await s.complete(s.b, 'kim'), await s.complete(s.a, 'kim')].map(
    (response) => response.headers['x-ratelimit-remaining']
  )
  t.same(remaining, ['2', '1', '0'])
  t.equal((await s.complete(s.b, 'kim')).statusCode, 429)
  t.equal((await s.open(s.a, 'lee')).statusCode, 200)
  t.equal((await s.open(s.b, 'lee')).statusCode, 429, 'the stream cap is shared')
  // A renewal round (every second with 3 s leases) and a release run as this user too.
  const leases = `${keyPrefix(NAMESPACE)}streams:user:lee`
  const expiry = async () => Number((await ask<[string, string]>(redis.port, 'ZRANGE', [leases, 0, 0, 'WITHSCORES'], redis.adminOptions))[1])
  const first = await expiry()
  await until('a renewal round (every leaseSeconds / 3 = 1 s)', async () => (await expiry()) > first, 3000)
  t.pass('the lease was renewed')
  s.releaseAll()
  await until('the lease to be released', async () => (await ask<number>(redis.port, 'ZCARD', [leases], redis.adminOptions)) === 0)
  t.same(
    [...s.a.logs.lines, ...s.b.logs.lines].filter((line) => Number(line.level) >= 40).map((line) => line.msg),
    [],
    'no warning or error from either replica'
  )
  t.same(await ask(redis.port, 'ACL', ['LOG'], redis.adminOptions), [], 'Redis denied the gateway nothing (ACL LOG is empty)')
})

t.test('a user denied EVALSHA: the gateway refuses to start, saying which command and what to grant', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = spawnGateway({ ...gatewayEnv(url), PORT: '0', ...tlsEnv('asg-no-evalsha') })
  t.teardown(() => gateway.child.kill('SIGKILL'))
  const { code } = await Promise.race([
    gateway.exited,
    new Promise<{ code: string }>((resolve) => setTimeout(resolve, 30_000, { code: 'still running after 30 s' }).unref())
  ])
  t.equal(code, 1)
  t.match(gateway.stderr(), /^agent-studio-gateway: refusing to start: Redis \(standalone\) refused the limits scripts: NOPERM .*'evalsha'/m)
  t.match(gateway.stderr(), /the Redis user lacks a permission the gateway needs: grant the ACL in docs\/operations\.md/)
  t.notMatch(gateway.stderr(), /gateway-password-for-this-test/, 'the password is not printed')
})

t.test('doctor with a user denied ZADD names the command and prints the ACL to grant', async (t) => {
  const { url } = await startStandIn(t)
  const [node, ...args] = nodeCommand('src/cli.ts')
  const child = spawn(node!, [...args, 'doctor'], { env: { PATH: process.env.PATH, ...gatewayEnv(url), ...tlsEnv('asg-no-zadd') } as NodeJS.ProcessEnv })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk.toString()))
  const code = await new Promise((resolve) => child.on('exit', resolve))
  t.equal(code, 1)
  t.match(output, `✓ Redis answers in standalone mode (127.0.0.1:${redis.port} (TLS) as user asg-no-zadd, namespace ${NAMESPACE})`)
  // Redis 7.0 names no command for a denial inside a script; the hint finds it in the script's line.
  t.match(output, /✗ Redis refused the limits scripts: .*can't run this command.*\n.*lacks a permission the gateway needs \(the script's zadd\)/)
  t.match(output, `the gateway's user needs: ACL SETUSER <user> ${gatewayAclRules(keyPrefix(NAMESPACE))}`)
  t.match(output, /not ready: 1 check failed/)
})
