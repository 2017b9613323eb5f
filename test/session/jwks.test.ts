import { generateKeyPairSync } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import Fastify from 'fastify'
import t from 'tap'
import type { Test } from 'tap'
import { SignJWT, exportJWK } from 'jose'
import { AGENT_ID, completionBody } from '../helpers/fixtures.js'
import { startGateway, startStandIn } from '../helpers/gateway.js'

interface KeyPair {
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
}
const makeKey = (kid: string): KeyPair => ({ kid, ...generateKeyPairSync('ec', { namedCurve: 'P-256' }) })

/** A JWKS endpoint on a real socket whose keys and health the test controls. */
async function startJwks(t: Test, initial: KeyPair[]) {
  const state = { keys: initial, failing: false, fetches: 0 }
  const server = Fastify()
  server.get('/.well-known/jwks.json', async (_request, reply) => {
    state.fetches++
    if (state.failing) return reply.code(503).send('down')
    return { keys: await Promise.all(state.keys.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: 'ES256', use: 'sig' }))) }
  })
  const address = await server.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => server.close())
  return { state, url: `${address}/.well-known/jwks.json`, close: () => server.close() }
}

const tokenFor = (key: KeyPair, sub: string) =>
  new SignJWT({ sub }).setProtectedHeader({ alg: 'ES256', kid: key.kid }).setExpirationTime('5m').sign(key.privateKey)

async function gatewayWithJwks(t: Test, jwksUrl: string, env: Record<string, string> = {}) {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { SESSION_JWT_SECRET: undefined, SESSION_JWKS_URL: jwksUrl, ...env }, listen: false })
  const send = async (token: string) =>
    gateway.app.inject({
      method: 'POST',
      url: `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      payload: completionBody()
    })
  return { standIn, gateway, send }
}

t.test('a key rotated into the JWKS is picked up when its kid first appears', async (t) => {
  const oldKey = makeKey('2026-10')
  const newKey = makeKey('2026-11')
  const jwks = await startJwks(t, [oldKey])
  const { send, standIn } = await gatewayWithJwks(t, jwks.url, { SESSION_JWKS_COOLDOWN_SECONDS: '0' })

  t.equal((await send(await tokenFor(oldKey, 'before-rotation'))).statusCode, 200)
  t.equal((await send(await tokenFor(oldKey, 'again'))).statusCode, 200)
  t.equal(jwks.state.fetches, 1, 'keys are cached between verifications')

  jwks.state.keys = [newKey]
  const rotated = await send(await tokenFor(newKey, 'after-rotation'))
  t.equal(rotated.statusCode, 200, 'an unknown kid triggers a refresh that finds the new key')
  t.equal(jwks.state.fetches, 2)
  t.same(
    standIn.received.map((r) => r.userToken?.sub),
    ['before-rotation', 'again', 'after-rotation']
  )

  const unknown = await send(await tokenFor(makeKey('never-published'), 'intruder'))
  t.equal(unknown.statusCode, 401, 'a kid the JWKS does not have stays refused')
})

t.test('an unreachable JWKS endpoint does not sign out users whose key is cached', async (t) => {
  const key = makeKey('k1')
  const jwks = await startJwks(t, [key])
  // Cache max age 0: every verification tries to refresh, so the outage is hit on the next request.
  const { send, gateway } = await gatewayWithJwks(t, jwks.url, { SESSION_JWKS_CACHE_MAX_AGE_SECONDS: '0' })
  t.equal((await send(await tokenFor(key, 'u1'))).statusCode, 200)

  jwks.state.failing = true
  const during = await send(await tokenFor(key, 'u1'))
  t.equal(during.statusCode, 200, 'verified with the keys fetched last')
  t.ok(
    gateway.logs.lines.some((line) => line.level === 40 && /JWKS endpoint unreachable/.test(String(line.msg))),
    'the outage is logged'
  )

  await jwks.close()
  const closed = await send(await tokenFor(key, 'u1'))
  t.equal(closed.statusCode, 200, 'still verified when the endpoint refuses connections')
  const forged = await send(await tokenFor(makeKey('k1'), 'mallory'))
  t.equal(forged.statusCode, 401, 'the cached keys still reject a token signed by another key with the same kid')
})

t.test('with no keys ever fetched and the endpoint down, sessions cannot be checked: 503', async (t) => {
  const key = makeKey('k1')
  const jwks = await startJwks(t, [key])
  jwks.state.failing = true
  const { send, standIn } = await gatewayWithJwks(t, jwks.url)
  const response = await send(await tokenFor(key, 'u1'))
  t.equal(response.statusCode, 503)
  t.same(response.json(), {
    error: 'session_unavailable',
    message: 'Your session could not be checked right now; try again shortly.',
    requestId: response.headers['x-request-id']
  })
  t.equal(standIn.received.length, 0)
})
