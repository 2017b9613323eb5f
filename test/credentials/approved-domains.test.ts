import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { AGENT_ID, APP_ORIGIN, completionBody } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { postCompletion } from '../helpers/requests.js'
import { tempDir } from '../helpers/temp-dir.js'

// Issue 23, item 1: an agent with approved domains answers 403 to every completion whose Origin
// does not match, or that has none. The gateway sends an Origin from configuration, never the
// browser's. The stand-in enforces approved domains as Algolia documents them.

const approvedDomains = new Map([
  [AGENT_ID, ['shop.example.com']],
  ['agent-2', ['https://outlet.example.com']]
])

async function answer(gatewayUrl: string, t: Parameters<typeof testClient>[0], options: { agentId?: string; headers?: Record<string, string> } = {}) {
  const response = await postCompletion({
    gatewayUrl,
    dispatcher: testClient(t),
    user: 'u-domains',
    query: 'compatibilityMode=ai-sdk-5&stream=false',
    body: completionBody('hello'),
    ...options
  })
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> }
}

t.test('without an upstream Origin, an agent with approved domains refuses every chat (the failure the issue reports)', async (t) => {
  const { standIn, url } = await startStandIn(t, { approvedDomains })
  const gateway = await startGateway(t, url)
  // The browser claims the approved domain itself: the gateway does not pass it on.
  const refused = await answer(gateway.url, t, { headers: { origin: APP_ORIGIN, referer: 'https://shop.example.com/cart' } })
  t.equal(refused.status, 502)
  t.match(refused.body, { error: 'upstream_auth_failed' })
  t.equal(standIn.received.length, 1)
  t.equal(standIn.received[0]!.headers.origin, undefined, 'no Origin left the gateway')
  t.equal(standIn.received[0]!.headers.referer, undefined, "nor the browser's Referer")
})

t.test("with UPSTREAM_ORIGIN set to an approved domain, chat works and Agent Studio sees that Origin, never the browser's", async (t) => {
  const { standIn, url } = await startStandIn(t, { approvedDomains })
  const gateway = await startGateway(t, url, { env: { UPSTREAM_ORIGIN: 'https://shop.example.com', ALLOWED_AGENT_IDS: `${AGENT_ID},agent-2` } })
  const ok = await answer(gateway.url, t, { headers: { origin: APP_ORIGIN } })
  t.equal(ok.status, 200)
  t.match(ok.body, { role: 'assistant' })
  t.equal(standIn.received[0]!.headers.origin, 'https://shop.example.com')

  // agent-2's approved domain is another one: the deployment-wide Origin does not match it.
  const other = await answer(gateway.url, t, { agentId: 'agent-2' })
  t.equal(other.status, 502, 'an agent approved for another domain still refuses')
})

t.test('agents.<agentId>.upstreamOrigin overrides UPSTREAM_ORIGIN per agent, and reloads live (an invalid section keeps the old one)', async (t) => {
  const { standIn, url } = await startStandIn(t, { approvedDomains })
  const file = join(tempDir(), 'gateway.yaml')
  writeFileSync(file, 'agents:\n  agent-2:\n    upstreamOrigin: https://outlet.example.com\n')
  const gateway = await startGateway(t, url, {
    env: { UPSTREAM_ORIGIN: 'https://shop.example.com', GATEWAY_CONFIG_FILE: file, ALLOWED_AGENT_IDS: `${AGENT_ID},agent-2` }
  })

  t.equal((await answer(gateway.url, t)).status, 200, 'agent-1: the deployment-wide Origin')
  t.equal((await answer(gateway.url, t, { agentId: 'agent-2' })).status, 200, 'agent-2: its own Origin')
  t.same(
    standIn.received.map((r) => r.headers.origin),
    ['https://shop.example.com', 'https://outlet.example.com']
  )

  // A typo (an agent the gateway does not serve) and a bad origin: rejected, every problem named, nothing changes.
  writeFileSync(file, 'agents:\n  agent-2:\n    upstreamOrigin: https://outlet.example.com/path\n  agent-3:\n    cache: shared\n')
  gateway.app.policy.reload()
  const rejected = gateway.logs.lines.find((line) => line.msg === 'reload rejected: the limits in force are unchanged')
  t.ok(rejected, 'the reload was rejected')
  const problems = (rejected?.problems as string[]).join('\n')
  t.match(problems, /agents\.agent-2\.upstreamOrigin: an origin is scheme:\/\/host\[:port\] with no path/)
  t.equal((await answer(gateway.url, t, { agentId: 'agent-2' })).status, 200, 'the old agents section is still in force')

  writeFileSync(file, 'agents:\n  agent-3:\n    cache: shared\n')
  gateway.app.policy.reload()
  t.match(gateway.logs.lines.filter((line) => line.msg === 'reload rejected: the limits in force are unchanged').at(-1)?.problems, [
    /agents\.agent-3: not in ALLOWED_AGENT_IDS/
  ])

  // A valid change applies to the next request: agent-2 falls back to the deployment-wide Origin.
  writeFileSync(file, 'agents:\n  agent-2:\n    cache: shared\n')
  gateway.app.policy.reload()
  t.ok(gateway.logs.lines.some((line) => line.msg === 'limits reloaded'))
  t.equal((await answer(gateway.url, t, { agentId: 'agent-2' })).status, 502, 'agent-2 now gets UPSTREAM_ORIGIN, which it does not approve')
  t.equal(standIn.received.at(-1)!.headers.origin, 'https://shop.example.com')
})

t.test('a start with an invalid agents section is refused with every problem', async (t) => {
  const { url } = await startStandIn(t)
  const file = join(tempDir(), 'gateway.yaml')
  writeFileSync(file, 'agents:\n  agent-1:\n    upstreamOrigin: shop.example.com\n    cache: sometimes\n    colour: blue\n')
  let problems = ''
  try {
    await startGateway(t, url, { env: { GATEWAY_CONFIG_FILE: file } })
  } catch (error) {
    problems = ((error as { problems?: string[] }).problems ?? []).join('\n')
  }
  t.match(problems, /agents\.agent-1\.upstreamOrigin: an origin is/)
  t.match(problems, /agents\.agent-1\.cache: /)
  t.match(problems, /agents\.agent-1: Unrecognized key.*colour/)
})

t.test("conversations, feedback and tasks carry the agent's upstream Origin too", async (t) => {
  const { standIn, url } = await startStandIn(t, { approvedDomains })
  const gateway = await startGateway(t, url, { env: { UPSTREAM_ORIGIN: 'https://shop.example.com' } })
  const client = testClient(t)
  const { sessionToken } = await import('../helpers/fixtures.js')
  const headers = { authorization: `Bearer ${await sessionToken('u-origin')}`, 'content-type': 'application/json' }
  const { request } = await import('undici')
  const task = await request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/tasks`, {
    method: 'POST',
    dispatcher: client,
    headers,
    body: JSON.stringify({ task: 'suggest', input: { query: 'shoes' } })
  })
  t.equal(task.statusCode, 200, await task.body.text())
  const list = await request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/conversations`, {
    dispatcher: client,
    headers: { authorization: headers.authorization }
  })
  t.equal(list.statusCode, 200, await list.body.text())
  t.same(
    standIn.received.map((r) => r.headers.origin),
    ['https://shop.example.com', 'https://shop.example.com']
  )
})

t.test("the doctor's approved-domains probe, in process: per-agent Origin, the fix named, and what it cannot judge", async (t) => {
  const { probeApprovedDomains } = await import('../../src/credentials/agent-studio-probe.js')
  const { loadConfig } = await import('../../src/config/load-config.js')
  const { gatewayEnv } = await import('../helpers/fixtures.js')
  const { Agent } = await import('undici')
  const { url } = await startStandIn(t, { approvedDomains, requestBudget: { max: 3, windowMs: 60_000 } })
  const file = join(tempDir(), 'gateway.yaml')
  writeFileSync(file, 'agents:\n  agent-2:\n    upstreamOrigin: https://outlet.example.com\n')
  const { config } = loadConfig(gatewayEnv(url, { ALLOWED_AGENT_IDS: `${AGENT_ID},agent-2`, GATEWAY_CONFIG_FILE: file }), { defaultConfigFile: undefined })
  const dispatcher = new Agent()
  t.teardown(() => dispatcher.close())
  const [first, second] = await probeApprovedDomains(config, dispatcher)
  t.match(first, {
    status: 'fail',
    title: `agent ${AGENT_ID} has approved domains and refuses the gateway's no Origin (UPSTREAM_ORIGIN is not set) (HTTP 403: Origin not allowed: this agent only answers requests from its approved domains, and the request has no Origin or Referer)`
  })
  t.match(second, { status: 'ok', title: "agent agent-2 accepts the gateway's Origin https://outlet.example.com (agents.agent-2.upstreamOrigin)" })
  // The stand-in's application budget (3 a minute): of the next two probes, sent together, one is over it.
  const again = await probeApprovedDomains(config, dispatcher)
  t.equal(
    again.filter((result) => result.status === 'not_checked' && /HTTP 429: Agent Studio's per-application rate limit/.test(result.title)).length,
    1,
    'a 429 is "not checked", never a pass or a failure'
  )
})
