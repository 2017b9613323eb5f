// Regression (issue 12): useChat({ resume: true }) opened every page in an error state, because
// the gateway answered its resume probe with 404.
import t from 'tap'
import { MAX_CLIENT_CONVERSATION_ID_LENGTH } from '../../src/policy/conversation-namespace.js'
import { AGENT_ID, APP_ORIGIN, sessionToken } from '../helpers/fixtures.js'
import { sharedGateways } from '../helpers/gateway.js'

// useChat({ resume: true }) probes this on every page load and shows an error for anything but 204.
const resumePath = (agentId: string, chatId: string) => `/agent-studio/1/agents/${agentId}/completions/${chatId}/stream?compatibilityMode=ai-sdk-5`

// One stand-in and gateway for the file (every test uses the same configuration).
const shared = sharedGateways(t)

async function setup() {
  const { standIn, gateway } = await shared()
  const token = await sessionToken('u1')
  const get = (path: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }) =>
    gateway.app.inject({ method: 'GET', url: path, headers })
  return { standIn, gateway, token, get }
}

t.test('the resume probe of a signed-in user answers 204 "nothing to resume" without calling Agent Studio', async (t) => {
  const { standIn, get, gateway } = await setup()
  const response = await get(resumePath(AGENT_ID, 'Xk3b9aQ2LmN7pR1s'))
  t.equal(response.statusCode, 204)
  t.equal(response.body, '')
  t.equal(response.headers['cache-control'], 'private, no-store', 'like every answer about a user')
  t.equal(standIn.received.length, 0, 'Agent Studio has no resumable streams: nothing to ask it')
  t.match(gateway.logs.requests.at(-1), { route: '/agent-studio/1/agents/:agentId/completions/:chatId/stream', status: 204, userId: 'u1', agentId: AGENT_ID })
})

t.test('the resume probe with a cookie session from the allowed origin answers 204 with CORS headers', async (t) => {
  const { get, token } = await setup()
  const response = await get(resumePath(AGENT_ID, 'chat-1'), { cookie: `session=${token}`, origin: APP_ORIGIN })
  t.equal(response.statusCode, 204)
  t.equal(response.headers['access-control-allow-origin'], APP_ORIGIN)
})

t.test('the resume probe without a session is 401 session_required', async (t) => {
  const { get } = await setup()
  const response = await get(resumePath(AGENT_ID, 'chat-1'), {})
  t.equal(response.statusCode, 401)
  t.equal(response.json().error, 'session_required')
})

t.test('the resume probe checks the agent allow-list and the chat id like every other route', async (t) => {
  const { get, standIn } = await setup()
  t.equal((await get(resumePath('other-agent', 'chat-1'))).json().error, 'agent_not_allowed')
  const badId = await get(resumePath(AGENT_ID, 'chat.1'))
  t.equal(badId.statusCode, 400)
  t.same(badId.json().error, 'invalid_id')
  t.match(badId.json().message, /chat id is not valid/)
  t.equal((await get(resumePath(AGENT_ID, 'x'.repeat(MAX_CLIENT_CONVERSATION_ID_LENGTH)))).statusCode, 204, 'the longest client conversation id is fine')
  t.equal((await get(resumePath(AGENT_ID, 'x'.repeat(MAX_CLIENT_CONVERSATION_ID_LENGTH + 1)))).statusCode, 400)
  t.equal(standIn.received.length, 0)
})
