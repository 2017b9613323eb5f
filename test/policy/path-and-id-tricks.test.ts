import t from 'tap'
import fc from 'fast-check'
import { AGENT_ID, completionBody, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'
import { rawRequest } from '../helpers/requests.js'
import { isAgentId } from '../../src/config/ids.js'
import { isClientConversationId as isConversationId } from '../../src/policy/conversation-namespace.js'

t.test('path tricks sent on a raw socket never reach another upstream path', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { ALLOWED_AGENT_IDS: AGENT_ID } })
  const authorization = `Bearer ${await sessionToken('u1')}`
  const body = JSON.stringify(completionBody())
  // Each path is written to the socket exactly as here: no client library normalises it.
  const attempts: Array<{ path: string; status: number; error: string }> = [
    { path: '/agent-studio/1/agents/..%2F..%2F1%2Fsecrets/completions', status: 400, error: 'invalid_id' },
    { path: '/agent-studio/1/agents/%2e%2e/completions', status: 400, error: 'invalid_id' },
    { path: '/agent-studio/1/agents/agent-1%2F..%2Fagent-2/completions', status: 400, error: 'invalid_id' },
    { path: '/agent-studio/1/agents/agent-1%5C..%5Cadmin/completions', status: 400, error: 'invalid_id' },
    { path: '/agent-studio/1/agents/agent-1%252F/completions', status: 400, error: 'invalid_id' },
    { path: '/agent-studio/1/agents/agent-1%00/completions', status: 400, error: 'invalid_id' },
    { path: '/agent-studio/1/agents/agent%201/completions', status: 400, error: 'invalid_id' },
    { path: '/agent-studio/1/agents/agent-1%E0%A4%A/completions', status: 400, error: 'invalid_request' },
    { path: `/agent-studio/1/agents/${'a'.repeat(129)}/completions`, status: 400, error: 'invalid_id' },
    { path: `/agent-studio/1/agents/${'a'.repeat(400)}/completions`, status: 400, error: 'invalid_id' },
    { path: '/agent-studio/1/agents/agent-1/../agent-1/completions', status: 404, error: 'not_found' },
    { path: '/agent-studio/1/agents/./agent-1/completions', status: 404, error: 'not_found' },
    { path: '/agent-studio/1/agents//completions', status: 400, error: 'invalid_id' },
    { path: '/agent-studio/1/agents/agent-1//completions', status: 404, error: 'not_found' },
    { path: '//agent-studio/1/agents/agent-1/completions', status: 404, error: 'not_found' },
    { path: '/agent-studio/1/agents/agent-1/completions/', status: 404, error: 'not_found' },
    { path: '/agent-studio/1/agents/agent-1/completions;x=1', status: 404, error: 'not_found' },
    { path: '/agent-studio/1/agents/agent-1\\completions', status: 404, error: 'not_found' },
    { path: '/agent-studio\\1\\agents\\agent-1\\completions', status: 404, error: 'not_found' },
    { path: '/agent-studio/1/AGENTS/agent-1/completions', status: 404, error: 'not_found' },
    { path: '/agent-studio/1/agents/unknown-agent/completions', status: 403, error: 'agent_not_allowed' }
  ]
  for (const { path, status: expectedStatus, error } of attempts) {
    const head = `POST ${path}?compatibilityMode=ai-sdk-5&stream=false HTTP/1.1\r\nHost: gw.test\r\nContent-Type: application/json\r\nAuthorization: ${authorization}`
    const answer = await rawRequest(gateway.url, head, body)
    const status = Number(answer.slice(9, 12))
    const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: string; requestId: string }
    t.equal(status, expectedStatus, `${path.slice(0, 70)} is refused with ${expectedStatus}`)
    t.equal(json.error, error, `${path.slice(0, 70)} → ${error}`)
    t.match(json.requestId, /^[0-9a-f-]{36}$/)
  }
  t.equal(standIn.received.length, 0, 'not one of them was forwarded')
  t.equal(gateway.logs.requests.length, attempts.length, 'each refusal has its summary line')
})

t.test('administration and unknown routes are 404 and forwarded nowhere', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { listen: false })
  const authorization = `Bearer ${await sessionToken('u1')}`
  const routes: Array<[string, string]> = [
    ['GET', '/agent-studio/1/agents'],
    ['POST', '/agent-studio/1/agents'],
    ['GET', `/agent-studio/1/agents/${AGENT_ID}`],
    ['PATCH', `/agent-studio/1/agents/${AGENT_ID}`],
    ['DELETE', `/agent-studio/1/agents/${AGENT_ID}`],
    ['POST', `/agent-studio/1/agents/${AGENT_ID}/publish`],
    ['GET', '/agent-studio/1/providers'],
    ['GET', '/agent-studio/1/secret-keys'],
    ['DELETE', '/agent-studio/1/cache'],
    ['GET', `/agent-studio/1/agents/${AGENT_ID}/completions`],
    ['PUT', `/agent-studio/1/agents/${AGENT_ID}/completions`],
    ['GET', '/1/indexes'],
    ['GET', '/admin']
  ]
  for (const [method, path] of routes) {
    const response = await gateway.app.inject({ method: method as 'GET', url: path, headers: { authorization } })
    t.equal(response.statusCode, 404, `${method} ${path}`)
    t.same(response.json(), { error: 'not_found', message: 'There is no such route on this gateway.', requestId: response.headers['x-request-id'] })
  }
  t.equal(standIn.received.length, 0)
})

t.test('id validators accept only whole plain ids, whatever the input', async (t) => {
  const plain = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/)
  fc.assert(fc.property(plain, (id) => isAgentId(id) && isConversationId(id)))

  const dangerous = fc.oneof(
    fc.constantFrom('/', '\\', '..', '.', '%', '%2F', '%2e', '?', '#', ';', ' ', '\u0000', '\n', '\r', '\u202e', '／', '%00', '@', ':'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }).filter((s) => /[^A-Za-z0-9_-]/.test(s))
  )
  const withTrick = fc.tuple(plain, dangerous, fc.string({ maxLength: 20 })).map(([a, b, c]) => a + b + c)
  fc.assert(fc.property(withTrick, (id) => !isAgentId(id) && !isConversationId(id)))
  fc.assert(fc.property(fc.string({ minLength: 129, maxLength: 300 }), (id) => !isAgentId(id)))
  t.notOk(isAgentId(''))
  t.notOk(isAgentId('-leading-dash'))
  t.notOk(isAgentId(42))
  t.ok(isAgentId('1feae05a-7f2b-4f2b-9b2d-0a1b2c3d4e5f'))
})

t.test('an invalid id is explained: what is wrong and what an id looks like', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { listen: false })
  const response = await gateway.app.inject({
    method: 'POST',
    url: '/agent-studio/1/agents/bad%20id/completions?compatibilityMode=ai-sdk-5',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await sessionToken('u1')}` },
    payload: completionBody()
  })
  t.equal(response.statusCode, 400)
  t.same(response.json(), {
    error: 'invalid_id',
    message: 'The agent id is not valid: ids are 1 to 128 letters, digits, "-" or "_", starting with a letter or digit.',
    requestId: response.headers['x-request-id']
  })
})
