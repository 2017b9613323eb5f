import t from 'tap'
import { loadConfig } from '../../src/config/load-config.js'
import type { JwtSessionConfig } from '../../src/config/types.js'
import { buildJwtVerifier } from '../../src/session/jwt-verifier.js'
import { gatewayEnv, sessionToken } from '../helpers/fixtures.js'

// The verifier remembers verified session tokens for up to a minute so a signature is checked
// about once a minute per user. These tests freeze its clock (the `now` option) to prove that a
// remembered token is still refused the moment it expires, or while it is not valid yet: a cache
// that skipped the exp/nbf re-check would keep an expired session alive for up to a minute.

const configured = loadConfig(gatewayEnv(new URL('http://127.0.0.1:9/agent-studio')), { defaultConfigFile: undefined }).config.session
if (configured.kind !== 'jwt') throw new Error('the test environment uses a session secret')
const session: JwtSessionConfig = configured
const TOLERANCE_MS = session.clockToleranceSeconds * 1000
const T0 = Math.floor(Date.now() / 1000) * 1000
const seconds = (ms: number) => ms / 1000

function frozenVerifier() {
  const clock = { now: T0 }
  return { clock, verify: buildJwtVerifier(session, { now: () => new Date(clock.now) }) }
}

t.test('the clock tolerance is the documented default of 5 seconds (the figures below rely on it)', async (t) => {
  t.equal(TOLERANCE_MS, 5000)
})

t.test('a remembered session token is refused once it expires, up to the clock tolerance and not a second later', async (t) => {
  const { clock, verify } = frozenVerifier()
  const token = await sessionToken('clock-user', { expiresIn: seconds(T0) + 120 })
  t.equal((await verify(token)).id, 'clock-user', 'valid when first seen, and now remembered')

  clock.now = T0 + 120_000 + TOLERANCE_MS - 1000
  t.equal((await verify(token)).id, 'clock-user', 'past exp but inside the tolerance: still accepted')

  clock.now = T0 + 120_000 + TOLERANCE_MS + 1000
  await t.rejects(verify(token), { code: 'SESSION_INVALID', statusCode: 401 }, 'past exp and the tolerance: refused although remembered')
  clock.now = T0
  t.equal((await verify(token)).id, 'clock-user', 'a refusal is not remembered: the signature is checked again')
})

t.test('a remembered session token is refused when the clock is set back before its nbf', async (t) => {
  const { clock, verify } = frozenVerifier()
  const token = await sessionToken('early-user', { expiresIn: seconds(T0) + 3600, claims: { nbf: seconds(T0) + 60 } })
  clock.now = T0 + 60_000
  t.equal((await verify(token)).id, 'early-user', 'valid from nbf on, and now remembered')

  clock.now = T0 + 60_000 - TOLERANCE_MS + 1000
  t.equal((await verify(token)).id, 'early-user', 'before nbf but inside the tolerance: still accepted')

  clock.now = T0 + 60_000 - TOLERANCE_MS - 1000
  await t.rejects(
    verify(token),
    { code: 'SESSION_INVALID', statusCode: 401 },
    'before nbf beyond the tolerance (an NTP step back): refused although remembered'
  )
})
