// Issue 24: every privileged action leaves exactly one audit event (who, what, when, outcome,
// request id) on a destination of its own, never with message content: export, erasure,
// conversation delete, feedback created and changed (tool approvals: test/tool-approval-binding.test.ts).
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { stringify } from 'yaml'
import { AGENT_ID, sessionToken } from '../helpers/fixtures.js'
import { LogCapture, startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { upstreamId } from '../helpers/conversations.js'
import { waitFor } from '../helpers/requests.js'
import { tempDir } from '../helpers/temp-dir.js'
import { AUDIT_EVENT_FIELDS } from '../../src/audit/audit-log.js'
import { PRIVILEGED_ROUTES } from '../../src/audit/privileged-routes.js'
import { ROUTES } from '../../src/config/route-table.js'

async function setup(t: Parameters<typeof startStandIn>[0], env: Record<string, string> = {}, withCapture = true) {
  const { standIn, url } = await startStandIn(t)
  const audit = new LogCapture()
  const gateway = await startGateway(t, url, { env, ...(withCapture ? { deps: { auditDestination: audit } } : {}) })
  standIn.store.append(AGENT_ID, upstreamId('auditor', 'conv_1'), 'auditor', { role: 'user', text: 'A very private question', sentBy: 'auditor' })
  const client = testClient(t)
  const as = async (method: string, path: string, payload?: unknown, user: string | null = 'auditor') => {
    const response = await request(`${gateway.url}${path}`, {
      method: method as 'GET',
      dispatcher: client,
      headers: {
        ...(user === null ? {} : { authorization: `Bearer ${await sessionToken(user)}` }),
        ...(payload === undefined ? {} : { 'content-type': 'application/json' })
      },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) })
    })
    await response.body.text()
    return { status: response.statusCode, requestId: String(response.headers['x-request-id']) }
  }
  return { standIn, gateway, audit, as }
}

t.test('each privileged action writes one event with who, what, outcome and request id; nothing of the content', async (t) => {
  const { gateway, audit, as } = await setup(t)
  const actions: Array<[string, string, string, unknown, number]> = [
    ['export', 'GET', '/agent-studio/1/user-data/me', undefined, 200],
    ['conversation_delete', 'DELETE', `/agent-studio/1/agents/${AGENT_ID}/conversations/conv_1`, undefined, 204],
    ['feedback_create', 'POST', '/agent-studio/1/feedback', { messageId: 'alg_msg_1', agentId: AGENT_ID, vote: 1, notes: 'secret feedback words' }, 201],
    ['feedback_change', 'PATCH', '/agent-studio/1/feedback', { messageId: 'alg_msg_1', agentId: AGENT_ID, vote: 0, notes: 'changed secret words' }, 200],
    ['erasure', 'DELETE', '/agent-studio/1/user-data/me', undefined, 200]
  ]
  for (const [action, method, path, payload, status] of actions) {
    const before = audit.lines.length
    const response = await as(method, path, payload)
    t.equal(response.status, status, `${action}: ${status}`)
    await waitFor(() => audit.lines.length > before)
    const events = audit.lines.slice(before)
    t.equal(events.length, 1, `${action}: exactly one event`)
    t.match(events[0], {
      msg: 'audit',
      log: 'audit',
      service: 'agent-studio-gateway',
      level: 30,
      time: Number,
      action,
      outcome: 'succeeded',
      status,
      userId: 'auditor',
      requestId: response.requestId
    })
  }
  t.match(audit.lines[1], { conversationId: 'conv_1', agentId: AGENT_ID }, 'the conversation as the browser names it')
  t.notMatch(audit.text(), /private question|secret feedback|changed secret|alg_cnv|Bearer/, 'no message, note, upstream id or credential')
  t.notMatch(gateway.logs.text(), /"msg":"audit"/, 'the audit trail is not in the request log')
  const allowed = new Set([...AUDIT_EVENT_FIELDS, 'level', 'time', 'service', 'log', 'msg', 'pid', 'hostname'])
  for (const line of audit.lines)
    t.same(
      Object.keys(line).filter((key) => !allowed.has(key)),
      [],
      'only documented fields'
    )
})

t.test('a refused attempt is audited too: no session, another agent', async (t) => {
  const { audit, as } = await setup(t)
  const anonymous = await as('DELETE', `/agent-studio/1/agents/${AGENT_ID}/conversations/conv_1`, undefined, null)
  t.equal(anonymous.status, 401)
  await waitFor(() => audit.lines.length === 1)
  t.match(audit.lines[0], { action: 'conversation_delete', outcome: 'refused', status: 401, reason: 'session_required', requestId: anonymous.requestId })
  t.notOk('userId' in audit.lines[0]!, 'nobody was signed in')
  const wrongAgent = await as('DELETE', '/agent-studio/1/agents/other-agent/conversations/conv_1')
  t.equal(wrongAgent.status, 403)
  await waitFor(() => audit.lines.length === 2)
  t.match(audit.lines[1], { action: 'conversation_delete', outcome: 'refused', status: 403, reason: 'agent_not_allowed', userId: 'auditor' })
})

t.test('the audit destination is configurable: a file of its own', async (t) => {
  const path = join(tempDir('asg-audit-'), 'audit', 'trail.log')
  const policy = join(tempDir('asg-audit-policy-'), 'gateway.yaml')
  writeFileSync(policy, stringify({ limits: { upstreamBudget: { max: 0 } }, audit: { destination: 'file', path } }))
  const { as } = await setup(t, { GATEWAY_CONFIG_FILE: policy }, false)
  const response = await as('GET', '/agent-studio/1/user-data/me')
  t.equal(response.status, 200)
  let text = ''
  await waitFor(() => {
    try {
      text = readFileSync(path, 'utf8')
    } catch {
      return false
    }
    return text.includes(response.requestId)
  }, 5000)
  t.match(JSON.parse(text.trim().split('\n').at(-1)!), { action: 'export', outcome: 'succeeded', userId: 'auditor', requestId: response.requestId })
})

t.test('the audit destination is configurable: syslog (RFC 5424 over UDP)', async (t) => {
  const collector = createSocket('udp4')
  collector.bind(0, '127.0.0.1')
  await once(collector, 'listening')
  t.teardown(() => collector.close())
  const policy = join(tempDir('asg-audit-policy-'), 'gateway.yaml')
  writeFileSync(
    policy,
    stringify({ limits: { upstreamBudget: { max: 0 } }, audit: { destination: 'syslog', syslog: { host: '127.0.0.1', port: collector.address().port } } })
  )
  const { as } = await setup(t, { GATEWAY_CONFIG_FILE: policy }, false)
  const received = once(collector, 'message', { signal: AbortSignal.timeout(10_000) })
  const response = await as('GET', '/agent-studio/1/user-data/me')
  const [datagram] = (await received) as [Buffer]
  const text = datagram.toString('utf8')
  t.match(text, /^<37>1 \d{4}-\d{2}-\d{2}T[\d:.]+Z \S+ agent-studio-gateway \d+ audit - \{/)
  t.match(JSON.parse(text.slice(text.indexOf('{'))), { action: 'export', requestId: response.requestId })
})

t.test('a bad audit section stops the start with every problem named', async (t) => {
  const { loadConfig } = await import('../../src/config/load-config.js')
  const { gatewayEnv } = await import('../helpers/fixtures.js')
  const policy = join(tempDir('asg-audit-policy-'), 'gateway.yaml')
  writeFileSync(policy, stringify({ audit: { destination: 'file', colour: 'red' } }))
  t.throws(() => loadConfig(gatewayEnv(new URL('http://127.0.0.1:1/agent-studio'), { GATEWAY_CONFIG_FILE: policy }), { defaultConfigFile: undefined }), {
    message: /audit: .*colour|audit\.path: destination file needs a path/s
  })
})

t.test('every route that deletes or changes something is audited, and docs list every field', async (t) => {
  // From the route table, where each route says whether it is audited (src/config/route-table.ts).
  const declared = new Set(ROUTES.filter((route) => route.method !== 'GET').map((route) => `${route.method} ${route.path}`))
  // POSTs that only ask Agent Studio (a chat turn, a task, a summary) or mint a key are not privileged actions.
  const notPrivileged = new Set([
    'POST /agent-studio/1/agents/:agentId/completions',
    'POST /agent-studio/1/agents/:agentId/tasks',
    'POST /agent-studio/1/context/compact',
    'POST /search-key'
  ])
  for (const route of declared) if (!notPrivileged.has(route)) t.ok(route in PRIVILEGED_ROUTES, `${route} writes an audit event`)
  t.equal(PRIVILEGED_ROUTES['GET /agent-studio/1/user-data/me'], 'export', 'the export (a GET) is audited too')
  const doc = readFileSync('docs/usage-and-governance.md', 'utf8')
  const section = doc.slice(doc.indexOf('## Audit trail'))
  const documented = [...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1])
  for (const field of AUDIT_EVENT_FIELDS) t.ok(documented.includes(field), `docs: ${field}`)
  for (const action of new Set(Object.values(PRIVILEGED_ROUTES))) t.match(section, `\`${action}\``, `docs: ${action}`)
})
