import t from 'tap'
import { request } from 'undici'
import { AGENT_ID, completionBody } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { startHostileUpstream } from '../helpers/hostile-upstream.js'

// Issue 11, item 12: in forward-auth mode, `Authorization: Bearer junk` + the victim's cookie +
// a foreign Origin skipped the CSRF origin check (a bearer session is exempt), while the session
// endpoint, which received both headers, signed the caller in by the cookie.

t.test('a junk bearer token cannot carry a cookie past the origin check: the session endpoint sees the bearer token only', async (t) => {
  const seen: Array<{ cookie: string | undefined; authorization: string | undefined }> = []
  const endpoint = await startHostileUpstream(t, (req, response) => {
    seen.push({ cookie: req.headers.cookie, authorization: req.headers.authorization })
    // Like many apps' session endpoints: whichever credential is valid signs the caller in.
    const signedIn = req.headers.cookie === 'session=victim-session' || req.headers.authorization === 'Bearer good-token'
    response.writeHead(signedIn ? 200 : 401, { 'content-type': 'application/json' })
    response.end(signedIn ? JSON.stringify({ id: 'victim' }) : '{}')
  })
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { SESSION_JWT_SECRET: undefined, SESSION_INTROSPECT_URL: `${endpoint.url.origin}/session` } })
  const client = testClient(t)
  const attack = await request(`${gateway.url}/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5`, {
    method: 'POST',
    dispatcher: client,
    headers: { authorization: 'Bearer junk', cookie: 'session=victim-session', origin: 'https://evil.example', 'content-type': 'application/json' },
    body: JSON.stringify(completionBody("spend the victim's budget"))
  })
  t.equal(attack.statusCode, 401)
  t.match(await attack.body.json(), { error: 'session_invalid' })
  t.same(seen, [{ cookie: undefined, authorization: 'Bearer junk' }], 'the cookie never reached the session endpoint')
  t.equal(standIn.received.length, 0, 'nothing went upstream')

  const cookieAlone = await request(`${gateway.url}/search-key`, {
    method: 'POST',
    dispatcher: client,
    headers: { cookie: 'session=victim-session', origin: 'https://evil.example' }
  })
  t.equal(cookieAlone.statusCode, 403, 'the cookie alone from a foreign origin meets the origin check')
  await cookieAlone.body.dump()

  const bearer = await request(`${gateway.url}/search-key`, {
    method: 'POST',
    dispatcher: client,
    headers: { authorization: 'Bearer good-token', cookie: 'theme=dark' }
  })
  t.equal(bearer.statusCode, 200, 'a real bearer session still works')
  await bearer.body.dump()
  t.same(seen.at(-1), { cookie: undefined, authorization: 'Bearer good-token' })
})
