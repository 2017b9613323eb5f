import { SignJWT, exportSPKI, generateKeyPair } from 'jose'
import t from 'tap'
import { request } from 'undici'
import { ConfigError, loadConfig } from '../../src/config/load-config.js'
import { gatewayEnv } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'

// Issue 11, item 4: in JWKS and public-key modes, audience and issuer were optional even in
// production, so a token the identity provider issued for another API or client was accepted.

const { publicKey, privateKey } = await generateKeyPair('ES256')
const pem = await exportSPKI(publicKey)
const ISSUER = 'https://id.example.com/'
const AUDIENCE = 'chat-gateway'

const idpToken = (claims: { iss: string; aud: string }) =>
  new SignJWT({ sub: 'alice' })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(claims.iss)
    .setAudience(claims.aud)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey)

t.test('production refuses a public-key or JWKS session without SESSION_JWT_AUDIENCE and SESSION_JWT_ISSUER', async (t) => {
  const url = new URL('http://127.0.0.1:9/agent-studio')
  for (const method of [{ SESSION_JWT_PUBLIC_KEY: pem }, { SESSION_JWKS_URL: 'https://id.example.com/.well-known/jwks.json' }]) {
    const name = Object.keys(method)[0]!
    const env = gatewayEnv(url, { NODE_ENV: 'production', SESSION_JWT_SECRET: undefined, ...method })
    t.throws(
      () => loadConfig(env, { defaultConfigFile: undefined }),
      new ConfigError([
        `SESSION_JWT_ISSUER: required with ${name}, or a token the identity provider issued for another API or client is accepted (NODE_ENV=production)`,
        `SESSION_JWT_AUDIENCE: required with ${name}, or a token the identity provider issued for another API or client is accepted (NODE_ENV=production)`
      ]),
      name
    )
    const outside = loadConfig({ ...env, NODE_ENV: undefined }, { defaultConfigFile: undefined })
    t.equal(outside.warnings.length, 2, `outside production, ${name} without them starts with two warnings (doctor shows them)`)
    t.doesNotThrow(
      () => loadConfig({ ...env, SESSION_JWT_ISSUER: ISSUER, SESSION_JWT_AUDIENCE: AUDIENCE }, { defaultConfigFile: undefined }),
      `${name} with both starts`
    )
  }
})

t.test('with both set, a token the same identity provider issued for another API or issuer is refused', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url, {
    env: { SESSION_JWT_SECRET: undefined, SESSION_JWT_PUBLIC_KEY: pem, SESSION_JWT_ISSUER: ISSUER, SESSION_JWT_AUDIENCE: AUDIENCE }
  })
  const client = testClient(t)
  const ask = async (token: string) => {
    const response = await request(`${gateway.url}/search-key`, { method: 'POST', dispatcher: client, headers: { authorization: `Bearer ${token}` } })
    return { status: response.statusCode, body: (await response.body.json()) as { error?: string } }
  }
  t.equal((await ask(await idpToken({ iss: ISSUER, aud: AUDIENCE }))).status, 200, 'a token for this gateway is accepted')
  t.match(await ask(await idpToken({ iss: ISSUER, aud: 'billing-api' })), { status: 401, body: { error: 'session_invalid' } }, 'another audience is refused')
  t.match(
    await ask(await idpToken({ iss: 'https://other-tenant.example.com/', aud: AUDIENCE })),
    { status: 401, body: { error: 'session_invalid' } },
    'another issuer is refused'
  )
})
