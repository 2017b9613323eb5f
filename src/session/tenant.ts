import { SessionInvalid } from '../errors.js'
import { MAX_USER_ID_LENGTH } from './types.js'

const MAX_TENANT_LENGTH = 64

/**
 * SESSION_TENANT_CLAIM: apps whose user ids are unique only within a tenant (two tenants may
 * both have user `42`) make the gateway's user id `<tenant>:<user>`. That one id is used
 * everywhere: the user token's `sub`, the conversation namespace, the user-data path, per-user
 * limits and logs. A tenant may not contain ":", so `<tenant>:<user>` reads back one way only.
 */
export function tenantScopedUserId(userId: string, claims: Readonly<Record<string, unknown>>, tenantClaim: string | undefined): string {
  if (tenantClaim === undefined) return userId
  const raw = claims[tenantClaim]
  const tenant = typeof raw === 'number' && Number.isSafeInteger(raw) ? String(raw) : raw
  if (typeof tenant !== 'string' || tenant.length === 0 || tenant.length > MAX_TENANT_LENGTH || !/^[^:\u0000-\u001f\u007f-\u009f]+$/.test(tenant)) {
    throw new SessionInvalid({
      cause: new Error(`the session has no usable tenant claim "${tenantClaim}" (1 to ${MAX_TENANT_LENGTH} characters, no ":" or control characters)`)
    })
  }
  const scoped = `${tenant}:${userId}`
  if (scoped.length > MAX_USER_ID_LENGTH) {
    throw new SessionInvalid({ cause: new Error(`tenant and user id together are longer than ${MAX_USER_ID_LENGTH} characters`) })
  }
  return scoped
}

/**
 * The tenant of a gateway user id (`<tenant>:<user>`, made above), for the tenant's token budget
 * (issue 24); without SESSION_TENANT_CLAIM there are no tenants.
 */
export function tenantOfUser(tenantClaim: string | undefined): (userId: string) => string | undefined {
  if (tenantClaim === undefined) return () => undefined
  return (userId) => {
    const colon = userId.indexOf(':')
    return colon > 0 ? userId.slice(0, colon) : undefined
  }
}
