/** Who the caller is, as proven by the web app's own session. */
export interface SessionUser {
  readonly id: string
  /** How the credential arrived: cookie sessions are subject to the CSRF origin check. */
  readonly via: 'cookie' | 'bearer'
  /** Verified session claims (JWT sessions) or the forward-auth answer; used by later policies. */
  readonly claims: Readonly<Record<string, unknown>>
}

export interface SessionCredential {
  readonly via: 'cookie' | 'bearer'
  readonly token: string
}

/** Longest user id (tenant prefix included): it becomes a JWT `sub` and an upstream path segment. */
export const MAX_USER_ID_LENGTH = 256

/** A user id becomes a JWT `sub` and a path segment upstream: keep it a bounded, printable string. */
export function normaliseUserId(value: unknown): string | undefined {
  const id = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_USER_ID_LENGTH) return undefined
  return /[\u0000-\u001f\u007f]/.test(id) ? undefined : id
}
