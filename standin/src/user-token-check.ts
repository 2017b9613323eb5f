import { errors, jwtVerify, decodeProtectedHeader } from 'jose'

export interface VerifiedUserToken {
  readonly sub: string
  readonly kid: string
  readonly exp: number
  readonly iat: number | undefined
}

export type UserTokenCheck = { readonly ok: true; readonly token: VerifiedUserToken } | { readonly ok: false; readonly message: string }

/**
 * Verifies an `X-Algolia-Secure-User-Token` the way Agent Studio does: HS256 only, `kid`
 * naming one of the app's authentication keys, a valid signature with that key, `sub` and
 * an unexpired `exp` present.
 */
export async function checkUserToken(token: string, keys: ReadonlyMap<string, string>, now: Date = new Date()): Promise<UserTokenCheck> {
  let kid: string | undefined
  try {
    kid = decodeProtectedHeader(token).kid
  } catch {
    return { ok: false, message: 'Invalid user token: malformed JWT' }
  }
  if (kid === undefined) return { ok: false, message: 'Invalid user token: missing kid header' }
  const secret = keys.get(kid)
  if (secret === undefined) return { ok: false, message: 'Invalid user token: unknown key id' }
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
      requiredClaims: ['sub', 'exp'],
      currentDate: now
    })
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) return { ok: false, message: 'Invalid user token: sub must be a string' }
    return { ok: true, token: { sub: payload.sub, kid, exp: payload.exp!, iat: payload.iat } }
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, message: 'Token expired' }
    return { ok: false, message: 'Invalid signature' }
  }
}
