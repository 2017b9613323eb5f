import t from 'tap'
import { AGENT_ID, APP_ORIGIN, TEST_KEYS, completionBody, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'
import { rawRequest } from '../helpers/requests.js'

t.test("nothing the browser sends can pass for the gateway's credentials", async (t) => {
  const { standIn, url: upstream } = await startStandIn(t)
  const gateway = await startGateway(t, upstream)
  const token = await sessionToken('victim')
  const head = [
    `POST /agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5 HTTP/1.1`,
    'Host: gateway.test',
    'Content-Type: application/json',
    `Origin: ${APP_ORIGIN}`,
    `Cookie: session=${token}; other=1`,
    `Authorization: Bearer ${token}`,
    'X-Algolia-API-Key: browser-supplied-admin-key',
    'x-algolia-application-id: OTHERAPP',
    'X-ALGOLIA-SECURE-USER-TOKEN: forged.user.token',
    'X-Algolia-Agent: attacker',
    'Proxy-Authorization: Basic Zm9vOmJhcg==',
    'X-Forwarded-For: 10.0.0.1',
    'Forwarded: for=10.0.0.1'
  ].join('\r\n')
  const answer = await rawRequest(gateway.url, head, JSON.stringify(completionBody()))
  t.match(answer, /^HTTP\/1.1 200/)

  const seen = standIn.received[0]!.headers
  t.equal(seen['x-algolia-api-key'], TEST_KEYS.apiKey)
  t.equal(seen['x-algolia-application-id'], TEST_KEYS.appId)
  t.equal(standIn.received[0]!.userToken?.sub, 'victim', 'the token is the one the gateway minted for the session user')
  t.not(seen['x-algolia-secure-user-token'], 'forged.user.token')
  for (const name of ['cookie', 'authorization', 'proxy-authorization', 'x-algolia-agent', 'x-forwarded-for', 'forwarded', 'origin']) {
    t.equal(seen[name], undefined, `${name} does not reach Agent Studio`)
  }
  t.same(
    Object.keys(seen)
      .filter((name) => name.startsWith('x-algolia-'))
      .sort(),
    ['x-algolia-api-key', 'x-algolia-application-id', 'x-algolia-secure-user-token']
  )
})

t.test('Connection: x-algolia-api-key cannot strip the injected key', async (t) => {
  const { standIn, url: upstream } = await startStandIn(t)
  const gateway = await startGateway(t, upstream)
  const head = [
    `POST /agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false HTTP/1.1`,
    'Host: gateway.test',
    'Content-Type: application/json',
    `Authorization: Bearer ${await sessionToken('u1')}`,
    'Connection: x-algolia-api-key, x-algolia-secure-user-token, x-algolia-application-id'
  ].join('\r\n')
  const answer = await rawRequest(gateway.url, head, JSON.stringify(completionBody()))
  t.match(answer, /^HTTP\/1.1 200/, 'the stand-in accepted the request: its credentials were all there')
  const seen = standIn.received[0]!.headers
  t.equal(seen['x-algolia-api-key'], TEST_KEYS.apiKey)
  t.equal(seen['x-algolia-application-id'], TEST_KEYS.appId)
  t.equal(standIn.received[0]!.userToken?.sub, 'u1')
})

t.test('upstream headers that could leak a credential never reach the browser', async (t) => {
  const { url: upstream } = await startStandIn(t, { responseHeaders: { 'set-cookie': 'upstream=secret', 'x-algolia-api-key': 'echoed' } })
  const gateway = await startGateway(t, upstream)
  const head = [
    `POST /agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false HTTP/1.1`,
    'Host: gateway.test',
    'Content-Type: application/json',
    `Authorization: Bearer ${await sessionToken('u1')}`
  ].join('\r\n')
  const answer = await rawRequest(gateway.url, head, JSON.stringify(completionBody()))
  t.match(answer, /^HTTP\/1.1 200/)
  t.notMatch(answer.toLowerCase(), /set-cookie|x-algolia-api-key|echoed/)
})
