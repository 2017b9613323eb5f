// Regression (issue 12): a same-origin page behind a proxy that rewrites Host (changeOrigin,
// nginx's default) got 403 origin_not_allowed on every chat request.
import t from 'tap'
import type { Test } from 'tap'
import { AGENT_ID, completionBody, sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'

// A same-origin page behind a reverse proxy that rewrites Host (a dev server's changeOrigin,
// nginx's default proxy_pass): the page's Origin is the public host, Host is the gateway's.
const path = `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`
const PUBLIC = 'https://shop.example.com'

async function setup(t: Test, env: Record<string, string> = {}) {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { ALLOWED_ORIGINS: '', ...env }, listen: false })
  const token = await sessionToken('u1')
  const send = (headers: Record<string, string>, remoteAddress = '127.0.0.1') =>
    gateway.app.inject({
      method: 'POST',
      url: path,
      remoteAddress,
      headers: { 'content-type': 'application/json', cookie: `session=${token}`, origin: PUBLIC, host: 'gateway.internal:3000', ...headers },
      payload: completionBody()
    })
  return { send, gateway }
}

t.test('a Host-rewriting proxy without X-Forwarded-Host makes a same-origin page look foreign (403)', async (t) => {
  const { send } = await setup(t, { TRUSTED_PROXIES: '127.0.0.1' })
  const response = await send({})
  t.equal(response.statusCode, 403)
  t.equal(response.json().error, 'origin_not_allowed')
})

t.test('X-Forwarded-Host from a trusted proxy makes the page same-origin again', async (t) => {
  const { send } = await setup(t, { TRUSTED_PROXIES: '127.0.0.1' })
  const response = await send({ 'x-forwarded-host': 'shop.example.com', 'x-forwarded-proto': 'https' })
  t.equal(response.statusCode, 200)
})

t.test('X-Forwarded-Host is ignored when TRUSTED_PROXIES is unset (anyone could send it)', async (t) => {
  const { send } = await setup(t)
  const response = await send({ 'x-forwarded-host': 'shop.example.com' })
  t.equal(response.statusCode, 403)
})

t.test('X-Forwarded-Host from an address not in TRUSTED_PROXIES is ignored', async (t) => {
  const { send } = await setup(t, { TRUSTED_PROXIES: '10.0.0.0/8' })
  t.equal((await send({ 'x-forwarded-host': 'shop.example.com' }, '192.0.2.7')).statusCode, 403)
  t.equal((await send({ 'x-forwarded-host': 'shop.example.com', 'x-forwarded-proto': 'https' }, '10.1.2.3')).statusCode, 200)
})

t.test('listing the public origin in ALLOWED_ORIGINS is the alternative when the proxy cannot send X-Forwarded-Host', async (t) => {
  const { send } = await setup(t, { ALLOWED_ORIGINS: PUBLIC })
  t.equal((await send({})).statusCode, 200)
})
