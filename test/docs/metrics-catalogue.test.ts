import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { Registry, collectDefaultMetrics } from 'prom-client'
import { request } from 'undici'
import { createMetrics } from '../../src/metrics.js'
import { AGENT_ID, completionBody, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { postCompletion, waitFor } from '../helpers/requests.js'

// docs/metrics.md is the catalogue ops read; this keeps it exactly true to the code, and keeps
// every label's values bounded (no user, conversation, IP or path ever becomes a series).

interface Documented {
  readonly type: string
  readonly labels: string[]
}

/** The "Gateway metrics" table: `name` | type | `label`, `label` | meaning. */
function documentedMetrics(): Map<string, Documented> {
  const doc = readFileSync('docs/metrics.md', 'utf8')
  const section = doc.slice(doc.indexOf('## Gateway metrics'), doc.indexOf('## Process metrics'))
  const rows = new Map<string, Documented>()
  for (const match of section.matchAll(/^\| `(gateway_[a-z0-9_]+)` \| (\w+) \| ([^|]*) \|/gm)) {
    rows.set(match[1]!, { type: match[2]!, labels: [...match[3]!.matchAll(/`([a-z_]+)`/g)].map((label) => label[1]!).sort() })
  }
  return rows
}

/** The metrics the gateway defines itself: everything in its registry but prom-client's defaults. */
function ownMetrics(): Map<string, Documented> {
  const defaults = new Registry()
  collectDefaultMetrics({ register: defaults, prefix: 'gateway_' })
  const defaultNames = new Set(defaults.getMetricsAsArray().map((metric) => metric.name))
  const own = new Map<string, Documented>()
  for (const metric of createMetrics().registry.getMetricsAsArray()) {
    if (defaultNames.has(metric.name)) continue
    const described = metric as unknown as { type: string; labelNames: string[] }
    own.set(metric.name, { type: described.type, labels: [...described.labelNames].sort() })
  }
  return own
}

t.test('docs/metrics.md lists exactly the metrics the gateway exports, with their types and labels', async (t) => {
  const documented = documentedMetrics()
  const own = ownMetrics()
  t.ok(own.size >= 10, 'the registry was read')
  t.same([...documented.keys()].sort(), [...own.keys()].sort(), 'same metric names')
  for (const [name, metric] of own) t.same(documented.get(name), metric, `${name}: type and labels as documented`)
})

t.test('no user id, conversation id, IP or path ever becomes a label value', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { MAX_EVENT_LOOP_DELAY_MS: '0' } })
  const client = testClient(t)
  const marker = () => `zz${randomBytes(6).toString('hex')}`
  const secrets: string[] = []
  const sent = async (method: string, path: string, user?: string, body?: unknown) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.77' }
    if (user !== undefined) headers.authorization = `Bearer ${await sessionToken(user)}`
    const response = await request(`${gateway.url}${path}`, {
      method,
      dispatcher: client,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    await response.body.text()
  }
  for (let i = 0; i < 3; i++) {
    const user = marker()
    const conversation = marker()
    const unknownAgent = marker()
    const path = marker()
    secrets.push(user, conversation, unknownAgent, path)
    await (await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user, body: completionBody('hi', { id: conversation }) })).body.text()
    await sent('GET', `/agent-studio/1/agents/${AGENT_ID}/conversations/${conversation}`, user)
    await sent('DELETE', `/agent-studio/1/agents/${AGENT_ID}/conversations/${conversation}`, user)
    await sent('POST', `/agent-studio/1/agents/${unknownAgent}/completions`, user, completionBody())
    await sent('GET', `/${path}/${conversation}`, user)
    await sent('GET', `/agent-studio/1/user-data/me`, user)
  }
  standIn.setFault({ kind: 'status', status: 503 })
  await (await postCompletion({ gatewayUrl: gateway.url, dispatcher: client, user: secrets[0]! })).body.text()
  standIn.setFault(null)
  await sent('POST', `/agent-studio/1/agents/${AGENT_ID}/completions`, undefined, completionBody())
  await waitFor(() => gateway.logs.requests.length >= 3 * 6 + 2)

  const exposition = await (await request(`${gateway.url}/metrics`, { dispatcher: client })).body.text()
  const values = [...exposition.matchAll(/[{,]\w+="([^"]*)"/g)].map((match) => match[1]!)
  t.ok(values.includes('/agent-studio/1/agents/:agentId/conversations/:conversationId'), 'routes appear as declared')
  t.ok(values.includes('5xx'), 'the upstream failure was counted by class')
  t.match(exposition, `gateway_upstream_ttfb_seconds_count{agent="${AGENT_ID}"}`, 'TTFB is labelled by the allowed agent')
  for (const secret of [...secrets, '203.0.113.77', '127.0.0.1'])
    t.notOk(
      values.some((value) => value.includes(secret)),
      `no label value carries ${secret}`
    )
  const routes = new Set(exposition.match(/route="[^"]*"/g))
  for (const route of routes) t.match(route, /^route="(unmatched|\/[A-Za-z0-9/:_-]*)"$/, `${route} is a declared route`)
  const agents = new Set([...exposition.matchAll(/agent="([^"]*)"/g)].map((match) => match[1]))
  t.same([...agents], [AGENT_ID], 'only allowed agents are labels')
})
