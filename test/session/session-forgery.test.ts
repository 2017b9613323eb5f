import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import type { Test } from 'tap'
import { SignJWT } from 'jose'
import { AGENT_ID, completionBody, sessionToken } from '../helpers/fixtures.js'
import { sharedGateways } from '../helpers/gateway.js'

const path = `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const inOneHour = () => Math.floor(Date.now() / 1000) + 3600

// One gateway per configuration for the whole file (a build costs more than the requests).
const gatewayFor = sharedGateways(t)

async function gatewayWith(_t: Test, env: Record<string, string | undefined> = {}) {
  const { standIn, gateway } = await gatewayFor(env)
  const send = (authorization: string | undefined) =>
    gateway.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
      payload: completionBody()
    })
  return { standIn, gateway, send }
}

t.test('no session at all is 401 session_required and nothing is forwarded', async (t) => {
  const { standIn, send } = await gatewayWith(t)
  const response = await send(undefined)
  t.equal(response.statusCode, 401)
  t.same(response.json(), {
    error: 'session_required',
    message: 'Sign in first: this request carries no session.',
    requestId: response.headers['x-request-id']
  })
  t.equal(standIn.received.length, 0)
})

const forgeries: Array<{ name: string; token: () => Promise<string>; env?: Record<string, string> }> = [
  { name: 'alg "none"', token: async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'admin', exp: inOneHour() })}.` },
  { name: 'signed with another secret', token: () => sessionToken('mallory', { secret: 'not-the-session-secret-but-long-enough' }) },
  { name: 'expired beyond the clock tolerance', token: () => sessionToken('late', { expiresIn: Math.floor(Date.now() / 1000) - 60 }) },
  { name: 'not valid yet (nbf in the future)', token: () => sessionToken('early', { claims: { nbf: Math.floor(Date.now() / 1000) + 600 } }) },
  {
    name: 'from the wrong issuer',
    token: () => sessionToken('u1', { claims: { iss: 'https://evil.example' } }),
    env: { SESSION_JWT_ISSUER: 'https://app.example.com' }
  },
  { name: 'for the wrong audience', token: () => sessionToken('u1', { claims: { aud: 'another-app' } }), env: { SESSION_JWT_AUDIENCE: 'agent-gateway' } },
  { name: 'without the user id claim', token: () => sessionToken(undefined) },
  { name: 'with an empty user id', token: () => sessionToken('') },
  { name: 'with a user id that is an object', token: () => sessionToken(undefined, { claims: { sub: { id: 1 } as unknown as string } }) },
  // The id becomes a JWT `sub`, a path segment and a log field: C0 controls and DEL are refused.
  { name: 'with a line break in the user id', token: () => sessionToken('alice\nrole=admin') },
  { name: 'with a NUL in the user id', token: () => sessionToken('alice\u0000') },
  { name: 'with a DEL in the user id', token: () => sessionToken('alice\u007f') },
  {
    name: 'without exp',
    token: async () =>
      new SignJWT({ sub: 'forever' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('test-session-secret-of-at-least-32-bytes!'))
  },
  {
    name: 'with a tampered payload',
    token: async () => {
      const [header, , signature] = (await sessionToken('alice')).split('.')
      return `${header}.${b64({ sub: 'admin', exp: inOneHour() })}.${signature}`
    }
  },
  { name: 'that is not a JWT', token: async () => 'definitely-not-a-jwt' }
]

for (const { name, token, env } of forgeries) {
  t.test(`a session token ${name} is 401 session_invalid and nothing is forwarded`, async (t) => {
    const { standIn, send, gateway } = await gatewayWith(t, env)
    const response = await send(`Bearer ${await token()}`)
    t.equal(response.statusCode, 401)
    t.same(response.json(), {
      error: 'session_invalid',
      message: 'Your session is invalid or has expired; sign in again.',
      requestId: response.headers['x-request-id']
    })
    t.equal(standIn.received.length, 0)
    t.match(gateway.logs.requests[0], { status: 401, rule: 'session_invalid' })
  })
}

t.test('issuer and audience, when configured and right, are accepted; a custom user id claim is used', async (t) => {
  const { standIn, send } = await gatewayWith(t, {
    SESSION_JWT_ISSUER: 'https://app.example.com',
    SESSION_JWT_AUDIENCE: 'agent-gateway',
    SESSION_USER_ID_CLAIM: 'uid'
  })
  const response = await send(
    `Bearer ${await sessionToken('ignored-sub', { claims: { iss: 'https://app.example.com', aud: 'agent-gateway', uid: 'user-from-uid' } })}`
  )
  t.equal(response.statusCode, 200)
  t.equal(standIn.received[0]!.userToken?.sub, 'user-from-uid')
})

t.test('with a public key configured', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const { standIn, send } = await gatewayWith(t, { SESSION_JWT_SECRET: undefined, SESSION_JWT_PUBLIC_KEY: pem.replaceAll('\n', '\\n') })

  t.test('an RS256 token signed with the matching private key is accepted', async (t) => {
    const token = await new SignJWT({ sub: 'rsa-user' }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('5m').sign(privateKey)
    const response = await send(`Bearer ${token}`)
    t.equal(response.statusCode, 200)
    t.equal(standIn.received.at(-1)!.userToken?.sub, 'rsa-user')
  })

  t.test('an HS256 token "signed" with the public key (algorithm confusion) is refused', async (t) => {
    const before = standIn.received.length
    const token = await new SignJWT({ sub: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(pem))
    const response = await send(`Bearer ${token}`)
    t.equal(response.statusCode, 401)
    t.equal(response.json().error, 'session_invalid')
    t.equal(standIn.received.length, before)
  })

  t.test('a token signed by another RSA key is refused', async (t) => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    const token = await new SignJWT({ sub: 'other' }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('5m').sign(other)
    const response = await send(`Bearer ${token}`)
    t.equal(response.statusCode, 401)
  })
})

t.test("an EC public key accepts only its own curve's algorithm", async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const { send } = await gatewayWith(t, { SESSION_JWT_SECRET: undefined, SESSION_JWT_PUBLIC_KEY: pem })
  const good = await new SignJWT({ sub: 'ec-user' }).setProtectedHeader({ alg: 'ES256' }).setExpirationTime('5m').sign(privateKey)
  t.equal((await send(`Bearer ${good}`)).statusCode, 200)
})
