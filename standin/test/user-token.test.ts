import t from 'tap'
import { AGENT_ID, TEST_KEYS, sharedStandIn, userToken } from './standin-client.js'

// X-Algolia-Secure-User-Token (Algolia's "User authentication" page, ../shared/seeds/000_*):
// an HS256 JWT signed with the app's authentication key (sk-alg-…), whose `kid` header names
// that key, with `sub` (the user) and `exp` (expiry) claims. A bad or expired token answers 401
// (agent-studio-api.md). The header is optional (x-algolia-secure-user-token in every path's
// parameters is `required: false`): without it the request is the application's, not a user's.

const ROTATED_KID = 'test-kid-2'
const ROTATED_SECRET = 'sk-alg-second-secret-while-rotating'
const shared = sharedStandIn(t, {
  authenticationKeys: new Map([
    [TEST_KEYS.keyId, TEST_KEYS.secretKey],
    [ROTATED_KID, ROTATED_SECRET]
  ])
})
const path = `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`
const body = { messages: [{ role: 'user', content: 'hello' }] }
const nowSeconds = () => Math.floor(Date.now() / 1000)

t.test('a valid token is accepted and its sub, kid and exp are what the request is recorded with', async (t) => {
  const exp = nowSeconds() + 600
  const answer = await shared.call('POST', path, { body, token: await userToken('alice', { expiresIn: exp }) })
  t.equal(answer.status, 200)
  t.match(shared.standIn.received.at(-1), {
    method: 'POST',
    path: `/agent-studio/1/agents/${AGENT_ID}/completions`,
    userToken: { sub: 'alice', kid: TEST_KEYS.keyId, exp }
  })
})

t.test('no token at all is accepted: the request is recorded without a user', async (t) => {
  const answer = await shared.call('POST', path, { body })
  t.equal(answer.status, 200)
  t.equal(shared.standIn.received.at(-1)!.userToken, undefined)
})

t.test('while keys rotate, a token signed with either authentication key is accepted, each by its own kid', async (t) => {
  const answer = await shared.call('POST', path, { body, token: await userToken('bob', { kid: ROTATED_KID, secret: ROTATED_SECRET }) })
  t.equal(answer.status, 200)
  t.match(shared.standIn.received.at(-1)!.userToken, { sub: 'bob', kid: ROTATED_KID })
})

const refusals: Array<[string, () => Promise<string>, string]> = [
  ['an expired token', () => userToken('alice', { expiresIn: nowSeconds() - 60 }), 'Token expired'],
  ['a token signed with the right secret under another kid', () => userToken('alice', { kid: ROTATED_KID }), 'Invalid signature'],
  ['a token whose kid names no authentication key', () => userToken('alice', { kid: 'unknown-kid' }), 'Invalid user token: unknown key id'],
  ['a token without a kid header', () => userToken('alice', { kid: null }), 'Invalid user token: missing kid header'],
  ['a token signed with another secret', () => userToken('alice', { secret: 'sk-alg-someone-elses-secret' }), 'Invalid signature'],
  ['a token signed with HS512 instead of HS256', () => userToken('alice', { alg: 'HS512' }), 'Invalid signature'],
  ['a token without sub', () => userToken(undefined), 'Invalid signature'],
  ['a token whose sub is not a string', () => userToken(undefined, { claims: { sub: 42 as unknown as string } }), 'Invalid user token: sub must be a string'],
  ['a token with an empty sub', () => userToken(''), 'Invalid user token: sub must be a string'],
  ['a token without exp', () => userToken('alice', { expiresIn: null }), 'Invalid signature'],
  ['something that is not a JWT', async () => 'not-a-jwt', 'Invalid user token: malformed JWT']
]

for (const [what, token, message] of refusals) {
  t.test(`${what} is refused with 401 and nothing is recorded`, async (t) => {
    const before = shared.standIn.received.length
    const answer = await shared.call('POST', path, { body, token: await token() })
    t.equal(answer.status, 401)
    t.same(answer.json(), { message, status: 401 })
    t.equal(shared.standIn.received.length, before)
  })
}

t.test('a token whose signature was made for another payload (sub swapped after signing) is refused', async (t) => {
  const [header, , signature] = (await userToken('alice')).split('.')
  const forgedPayload = Buffer.from(JSON.stringify({ sub: 'admin', exp: nowSeconds() + 600 })).toString('base64url')
  const answer = await shared.call('GET', `/1/agents/${AGENT_ID}/conversations`, { token: `${header}.${forgedPayload}.${signature}` })
  t.equal(answer.status, 401)
  t.same(answer.json(), { message: 'Invalid signature', status: 401 })
})

t.test('the token is checked on conversation routes too, not only on completions', async (t) => {
  const answer = await shared.call('GET', `/1/agents/${AGENT_ID}/conversations`, { token: await userToken('alice', { expiresIn: nowSeconds() - 1 }) })
  t.equal(answer.status, 401)
  t.same(answer.json(), { message: 'Token expired', status: 401 })
})
