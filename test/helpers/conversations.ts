import type { Test } from 'tap'
import { request } from 'undici'
import { conversationNamespace } from '../../src/policy/conversation-namespace.js'
import type { StandInOptions } from '../../standin/src/standin.js'
import { AGENT_ID, sessionToken } from './fixtures.js'
import { startGateway, startStandIn, testClient } from './gateway.js'

export const upstreamId = (user: string, clientId: string) => conversationNamespace(user).toUpstream(clientId)

/**
 * Users A and B, each with a conversation in the stand-in under their own namespace, A also
 * with one created before the gateway namespaced ids (a raw id), and a gateway in front.
 */
export async function conversationSetup(t: Test, env: Record<string, string> = {}, standInOptions: Partial<StandInOptions> = {}) {
  const { standIn, url } = await startStandIn(t, standInOptions)
  // Real sockets: the gateway listens and every call goes over HTTP.
  const gateway = await startGateway(t, url, { env })
  const client = testClient(t)
  standIn.store.append(AGENT_ID, upstreamId('user-a', 'conv_a1'), 'user-a', { role: 'user', text: 'A private question', sentBy: 'user-a' })
  standIn.store.append(AGENT_ID, upstreamId('user-a', 'conv_a2'), 'user-a', { role: 'user', text: 'A second question', sentBy: 'user-a' })
  standIn.store.append(AGENT_ID, 'legacy_a', 'user-a', { role: 'user', text: 'From before the gateway', sentBy: 'user-a' })
  standIn.store.append(AGENT_ID, upstreamId('user-b', 'conv_b1'), 'user-b', { role: 'user', text: 'B medical history', sentBy: 'user-b' })
  const as =
    (user: string, claims: Record<string, unknown> = {}) =>
    async (method: 'GET' | 'DELETE' | 'POST', path: string, payload?: unknown) => {
      const response = await request(`${gateway.url}${path}`, {
        method,
        dispatcher: client,
        headers: { authorization: `Bearer ${await sessionToken(user, { claims })}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(payload === undefined ? {} : { body: JSON.stringify(payload) })
      })
      const body = await response.body.text()
      return { statusCode: response.statusCode, headers: response.headers, body, json: () => JSON.parse(body) as Record<string, unknown> }
    }
  return { standIn, gateway, as, a: as('user-a'), b: as('user-b') }
}
