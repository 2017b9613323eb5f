// Issue 22: the only way to change limits live was SIGHUP to each process. The policy file is
// now watched, including the atomic symlink swap a Kubernetes ConfigMap volume makes, and each
// replica shows the policy in force (/readyz, /metrics) so ops can see the fleet converge.
import { createHash } from 'node:crypto'
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { stringify } from 'yaml'
import { AGENT_ID, completionBody, sessionToken } from '../helpers/fixtures.js'
import { NO_SHEDDING, startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { waitFor } from '../helpers/requests.js'
import { tempDir } from '../helpers/temp-dir.js'

/** A ConfigMap volume as the kubelet lays it out: gateway.yaml → ..data/gateway.yaml, ..data → ..<timestamp>. */
function configMapVolume() {
  const dir = tempDir('asg-configmap-')
  let version = 0
  const publish = (content: string) => {
    version += 1
    const target = `..2026_12_07_00_00_0${version}.000000000`
    mkdirSync(join(dir, target))
    writeFileSync(join(dir, target, 'gateway.yaml'), content)
    // The kubelet's swap: a new symlink under a temporary name, renamed over ..data (atomic).
    symlinkSync(target, join(dir, '..data_tmp'))
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'))
    return createHash('sha256').update(content).digest('hex').slice(0, 12)
  }
  const first = publish(stringify({ limits: { routes: { completions: { max: 5, windowSeconds: 60 } } } }))
  symlinkSync('..data/gateway.yaml', join(dir, 'gateway.yaml'))
  return { file: join(dir, 'gateway.yaml'), first, publish }
}

t.test('a ConfigMap update reaches the gateway without a restart, with no request dropped, and shows in /readyz and /metrics', async (t) => {
  const volume = configMapVolume()
  const { url } = await startStandIn(t, { paceMs: 20 })
  const gateway = await startGateway(t, url, { env: { ...NO_SHEDDING, GATEWAY_CONFIG_FILE: volume.file } })
  gateway.app.policy.watch(50)
  const client = testClient(t)
  const token = await sessionToken('watch-user')
  const complete = () =>
    request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5`, {
      method: 'POST',
      dispatcher: client,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(completionBody('[search] boots'))
    })
  const policyOf = async () =>
    ((await (await request(`${gateway.url}/readyz`, { dispatcher: client })).body.json()) as { policy: { hash: string; loadedAt: string } }).policy
  const metricsHash = async () =>
    /^gateway_policy_info\{hash="([0-9a-f]+)"\} 1$/m.exec(await (await request(`${gateway.url}/metrics`, { dispatcher: client })).body.text())?.[1]

  t.equal((await policyOf()).hash, volume.first, 'the policy in force at start')
  t.equal(await metricsHash(), volume.first)
  const streaming = await complete()
  t.equal(streaming.headers['x-ratelimit-limit'], '5')
  const streamed = streaming.body.text()

  const second = volume.publish(stringify({ limits: { routes: { completions: { max: 7, windowSeconds: 60 } } } }))
  await waitFor(() => gateway.logs.lines.some((line) => line.msg === 'limits reloaded'), 10_000)
  const applied = gateway.logs.lines.find((line) => line.msg === 'limits reloaded')!
  t.match(applied, { trigger: 'watch', policyHash: second })
  t.match(await streamed, /"type":"finish"/, 'the stream open across the reload finished')
  const after = await complete()
  t.equal(after.headers['x-ratelimit-limit'], '7', 'the next request runs under the new limits')
  await after.body.dump()
  t.equal((await policyOf()).hash, second, '/readyz shows the new policy')
  t.equal(await metricsHash(), second, 'and so does gateway_policy_info')

  volume.publish('limits:\n  routes:\n    completions: { max: -1 }\n')
  await waitFor(() => gateway.logs.lines.some((line) => line.msg === 'reload rejected: the limits in force are unchanged'), 10_000)
  const rejected = gateway.logs.lines.find((line) => line.msg === 'reload rejected: the limits in force are unchanged')!
  t.match(rejected, { level: 50, trigger: 'watch', policyHash: second })
  t.match((rejected.problems as string[]).join('\n'), /limits\.routes\.completions\.max/)
  const kept = await complete()
  t.equal(kept.headers['x-ratelimit-limit'], '7', 'an invalid file leaves the policy in force')
  await kept.body.dump()
  t.equal((await policyOf()).hash, second)
  // More polls of the same invalid content: reported once, not at every poll.
  for (let n = 0; n < 3; n++) gateway.app.policy.check()
  t.equal(gateway.logs.lines.filter((line) => line.msg === 'reload rejected: the limits in force are unchanged').length, 1, 'the bad file is reported once')
  const metrics = await (await request(`${gateway.url}/metrics`, { dispatcher: client })).body.text()
  t.match(metrics, /^gateway_reloads_total\{what="limits",outcome="applied"\} 1$/m)
  t.match(metrics, /^gateway_reloads_total\{what="limits",outcome="rejected"\} 1$/m)
})
