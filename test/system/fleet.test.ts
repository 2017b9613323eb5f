// @test-process: alone (three gateway processes behind nginx: slow)
// Issue 22: the gateway as a fleet. Three real gateway processes (src/server.ts, as `npm start`
// runs it) behind Debian's nginx, one Redis: limits and stream caps hold across replicas, a policy
// change reaches all three, and a replica drained with SIGTERM mid-stream finishes its streams
// while no new request fails. Runs in a process of its own (scripts/build-tests.mjs).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { Agent, request } from 'undici'
import { stringify } from 'yaml'
import { AGENT_ID, completionBody, gatewayEnv, sessionToken } from '../helpers/fixtures.js'
import { startStandIn } from '../helpers/gateway.js'
import { SHARED_REDIS, redisNamespace } from '../helpers/limits.js'
import { spawnGateway } from '../helpers/process.js'
import type { GatewayProcess } from '../helpers/process.js'
import { tempDir } from '../helpers/temp-dir.js'

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** nginx as the load balancer, with the retry rule of deploy/nginx.conf: a request a draining replica refused before doing anything goes to the next one. */
async function startNginx(t: Parameters<typeof startStandIn>[0], upstreams: string[]): Promise<string> {
  const prefix = tempDir('asg-nginx-')
  mkdirSync(join(prefix, 'logs'))
  const port = await freePort()
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `
worker_processes 1;
user root root;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  upstream gateways {
${upstreams.map((address) => `    server ${new URL(address).host};`).join('\n')}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_next_upstream error timeout http_503 non_idempotent;
    }
  }
}
`
  )
  const nginx = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  nginx.stderr.on('data', (chunk) => (stderr += chunk.toString()))
  t.teardown(() => {
    nginx.kill('SIGTERM')
  })
  const url = `http://127.0.0.1:${port}`
  // Up when it answers (a 404 from a gateway is an answer).
  for (let attempt = 0; attempt < 500; attempt++) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited: ${stderr}`)
    try {
      await (await request(`${url}/nothing`)).body.dump()
      return url
    } catch {
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  throw new Error(`nginx did not answer: ${stderr}`)
}

t.test('three replicas behind nginx share limits and caps, follow a policy change, and drain without failing a request', async (t) => {
  const { url } = await startStandIn(t, { paceMs: 40 })
  const policy = join(tempDir('asg-fleet-'), 'gateway.yaml')
  writeFileSync(
    policy,
    stringify({ limits: { routes: { conversations: { max: 6, windowSeconds: 60 } }, streams: { perUser: 1, global: 100, leaseSeconds: 30 } } })
  )
  const env = {
    ...gatewayEnv(url),
    PORT: '0',
    REDIS_URL: SHARED_REDIS,
    REDIS_NAMESPACE: redisNamespace(t),
    GATEWAY_CONFIG_FILE: policy,
    POLICY_RELOAD_INTERVAL_SECONDS: '1',
    SHUTDOWN_GRACE_SECONDS: '30',
    MAX_EVENT_LOOP_DELAY_MS: '0'
  }
  const replicas: GatewayProcess[] = [spawnGateway(env), spawnGateway(env), spawnGateway(env)]
  t.teardown(() => replicas.forEach((replica) => replica.child.kill('SIGKILL')))
  const addresses = await Promise.all(
    replicas.map(async (replica) => String((await replica.waitForLine((line) => line.msg === 'agent-studio-gateway listening')).address))
  )
  const lb = await startNginx(t, addresses)
  const client = new Agent({ connections: 32 })
  t.teardown(() => client.close())
  const auth = async (user: string) => ({ authorization: `Bearer ${await sessionToken(user)}` })
  const servedBy = () => replicas.map((replica) => replica.lines.filter((line) => line.msg === 'request').length)

  // 1. One per-route limit for the whole fleet: 6 a minute, whichever replica nginx picks.
  const before = servedBy()
  const statuses: number[] = []
  for (let n = 0; n < 9; n++) {
    const response = await request(`${lb}/agent-studio/1/agents/${AGENT_ID}/conversations`, { dispatcher: client, headers: await auth('fleet-limit') })
    statuses.push(response.statusCode)
    await response.body.dump()
  }
  t.same(statuses, [200, 200, 200, 200, 200, 200, 429, 429, 429], 'the seventh is refused, wherever it lands')
  t.ok(
    servedBy().every((count, index) => count > before[index]!),
    'every replica took part'
  )

  // 2. One stream per user for the whole fleet.
  const streamFor = async (user: string) =>
    request(`${lb}/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5`, {
      method: 'POST',
      dispatcher: client,
      headers: { ...(await auth(user)), 'content-type': 'application/json' },
      body: JSON.stringify(completionBody('[search] boots for the fleet'))
    })
  const open = await streamFor('fleet-streams')
  t.equal(open.statusCode, 200)
  const openBody = open.body.text()
  const second: number[] = []
  for (let n = 0; n < 3; n++) {
    const refused = await streamFor('fleet-streams')
    second.push(refused.statusCode)
    await refused.body.dump()
  }
  t.same(second, [429, 429, 429], 'a second stream is refused on every replica while the first is open')
  t.match(await openBody, /"type":"finish"/)

  // 3. A policy change reaches all three, with the same hash.
  writeFileSync(
    policy,
    stringify({ limits: { routes: { conversations: { max: 20, windowSeconds: 60 } }, streams: { perUser: 2, global: 100, leaseSeconds: 30 } } })
  )
  const reloaded = await Promise.all(replicas.map((replica) => replica.waitForLine((line) => line.msg === 'limits reloaded')))
  t.equal(new Set(reloaded.map((line) => line.policyHash)).size, 1, 'one policy everywhere')
  t.ok(reloaded.every((line) => line.trigger === 'watch'))

  // 4. Drain one replica mid-stream: its stream finishes, and every new request is served.
  const streams = await Promise.all(['drain-1', 'drain-2', 'drain-3'].map(streamFor))
  t.same(
    streams.map((response) => response.statusCode),
    [200, 200, 200]
  )
  const bodies = streams.map((response) => response.body.text())
  const drained = replicas[0]!
  const linesAtDrain = drained.lines.length
  drained.child.kill('SIGTERM')
  await drained.waitForLine((line) => String(line.msg).startsWith('shutting down'))
  const during: number[] = []
  for (let n = 0; n < 9; n++) {
    const response = await request(`${lb}/agent-studio/1/agents/${AGENT_ID}/conversations`, { dispatcher: client, headers: await auth(`after-drain-${n}`) })
    during.push(response.statusCode)
    await response.body.dump()
  }
  t.same(during, Array(9).fill(200), 'no request failed while a replica drained')
  for (const body of bodies) t.match(await body, /"type":"finish"/, "every stream finished, the drained replica's included")
  t.equal((await drained.exited).code, 0, 'the drained replica exited cleanly once its stream was done')
  const servedAfter = drained.lines
    .slice(linesAtDrain)
    .filter((line) => line.msg === 'request' && line.status === 200 && line.route === '/agent-studio/1/agents/:agentId/conversations')
  t.same(servedAfter, [], 'the drained replica served no new request (nginx sent them on)')
})
