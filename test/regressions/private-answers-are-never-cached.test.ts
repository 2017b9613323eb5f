import t from 'tap'
import { request } from 'undici'
import { AGENT_ID, APP_ORIGIN, sessionToken } from '../helpers/fixtures.js'
import { startGateway, testClient } from '../helpers/gateway.js'
import { startHostileUpstream } from '../helpers/hostile-upstream.js'
import { postCompletion } from '../helpers/requests.js'

// Issue 11, item 7: conversation reads and /user-data/me (one URL for every user) carried no
// cache-control: no-store, and an upstream `cache-control: public, max-age=86400` passed
// through, so a shared cache could serve one user's conversations to the next.

t.test('every non-stream Agent Studio answer is private, never stored, and varies on the session', async (t) => {
  const { url } = await startHostileUpstream(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=86400' })
    response.end(JSON.stringify({ id: 'c1', messages: [] }))
  })
  const gateway = await startGateway(t, url)
  const client = testClient(t)
  const token = await sessionToken('alice')
  const get = (path: string, method: 'GET' | 'POST' = 'GET') =>
    request(`${gateway.url}${path}`, { method, dispatcher: client, headers: { authorization: `Bearer ${token}`, origin: APP_ORIGIN } })

  const cases = {
    'a conversation read': `/agent-studio/1/agents/${AGENT_ID}/conversations/c1`,
    'the conversation list': `/agent-studio/1/agents/${AGENT_ID}/conversations`,
    '/user-data/me': '/agent-studio/1/user-data/me',
    'a refusal the gateway makes itself': `/agent-studio/1/agents/not-allowed/conversations/c1`
  }
  for (const [name, path] of Object.entries(cases)) {
    const response = await get(path)
    await response.body.dump()
    t.equal(response.headers['cache-control'], 'private, no-store', `${name}: upstream's public max-age is replaced`)
    t.equal(response.headers.vary, 'Origin, Cookie, Authorization', `${name}: varies on the session (and CORS's Origin)`)
  }
  const key = await get('/search-key', 'POST')
  await key.body.dump()
  t.equal(key.headers['cache-control'], 'private, no-store', '/search-key too')
  t.match(key.headers.vary, /Cookie, Authorization/)
})

t.test('a non-stream answer relayed as it comes (a completion with stream=false) is private too', async (t) => {
  // Relayed bytes bypass onSend (src/plugins/private-answers.ts): src/upstream/forward.ts marks
  // them itself. A mutation probe that dropped that line went unnoticed by the test above,
  // whose cases are all rewritten answers.
  const { url } = await startHostileUpstream(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=86400' })
    response.end(JSON.stringify({ id: 'alg_msg_2', role: 'assistant', parts: [{ type: 'text', text: 'your private answer' }] }))
  })
  const gateway = await startGateway(t, url)
  const response = await postCompletion({ gatewayUrl: gateway.url, dispatcher: testClient(t), user: 'alice', query: 'compatibilityMode=ai-sdk-5&stream=false' })
  t.match(await response.body.text(), /your private answer/)
  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'private, no-store', "upstream's public max-age is replaced")
  t.match(response.headers.vary, /Cookie, Authorization/)
})
