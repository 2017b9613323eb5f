import t from 'tap'
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { UserTokenMinter } from '../../src/credentials/user-token.js'

const key = { keyId: 'kid-a', secret: 'sk-alg-test-secret-a' }
const frozenAt = Date.UTC(2026, 10, 22, 12, 0, 0)

t.test('mints exactly the token Agent Studio expects', async (t) => {
  const minter = new UserTokenMinter({ key, ttlSeconds: 600, now: () => frozenAt })
  const token = await minter.tokenFor('user-1')
  t.same(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT', kid: 'kid-a' })
  t.same(decodeJwt(token), { sub: 'user-1', iat: frozenAt / 1000, exp: frozenAt / 1000 + 600 })
  const { payload } = await jwtVerify(token, new TextEncoder().encode(key.secret), { algorithms: ['HS256'], currentDate: new Date(frozenAt) })
  t.equal(payload.sub, 'user-1')
})

t.test("reuses a user's token until shortly before it expires, then signs a fresh one", async (t) => {
  let now = frozenAt
  const minter = new UserTokenMinter({ key, ttlSeconds: 3600, now: () => now })
  const first = await minter.tokenFor('u')
  now += 3000 * 1000
  t.equal(await minter.tokenFor('u'), first, 'still fresh after 50 of 60 minutes')
  now += 250 * 1000
  const second = await minter.tokenFor('u')
  t.not(second, first, 're-minted with six minutes left (a tenth of the TTL)')
  t.equal(decodeJwt(second).exp, Math.floor(now / 1000) + 3600)
})

t.test('keeps one token per user', async (t) => {
  const minter = new UserTokenMinter({ key, ttlSeconds: 3600, now: () => frozenAt })
  const a = await minter.tokenFor('a')
  const b = await minter.tokenFor('b')
  t.not(a, b)
  t.equal(decodeJwt(b).sub, 'b')
  t.equal(await minter.tokenFor('a'), a)
})

t.test('rotation signs with the new key and forgets tokens signed with the old one', async (t) => {
  const minter = new UserTokenMinter({ key, ttlSeconds: 3600, now: () => frozenAt })
  const before = await minter.tokenFor('u')
  minter.rotate({ keyId: 'kid-b', secret: 'sk-alg-test-secret-b' })
  const after = await minter.tokenFor('u')
  t.equal(decodeProtectedHeader(before).kid, 'kid-a')
  t.equal(decodeProtectedHeader(after).kid, 'kid-b')
  t.equal(minter.keyId, 'kid-b')
  await t.resolves(jwtVerify(after, new TextEncoder().encode('sk-alg-test-secret-b'), { currentDate: new Date(frozenAt) }))
})

t.test('a short TTL still leaves a safety margin of at least 30 seconds', async (t) => {
  let now = frozenAt
  const minter = new UserTokenMinter({ key, ttlSeconds: 60, now: () => now })
  const first = await minter.tokenFor('u')
  now += 29_000
  t.equal(await minter.tokenFor('u'), first)
  now += 2_000
  t.not(await minter.tokenFor('u'), first)
})
