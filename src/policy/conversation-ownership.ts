import type { FastifyRequest } from 'fastify'
import { buildUpstreamRequestHeaders } from '../credentials/header-boundary.js'
import { ConversationNotFound, UpstreamError } from '../errors.js'
import type { Upstream } from '../upstream/forward.js'
import type { LiveSecrets } from '../credentials/live-secrets.js'
import type { ConversationOwners } from './conversation-owners.js'

export interface OwnershipDependencies {
  readonly owners: ConversationOwners
  readonly upstream: Upstream
  readonly secrets: LiveSecrets
}

/**
 * "This conversation id is the caller's, or new": checked before a completion that names a
 * conversation is forwarded, so nobody can append to (or read back, through the agent's
 * memory) another user's conversation by sending its id.
 *
 * 1. Known to the gateway (local cache, then Redis): its owner decides. No upstream call.
 * 2. Never seen: ask Agent Studio with the caller's token. 200: theirs. Otherwise ask with
 *    the API key alone (which sees every conversation): 404 means it does not exist, so it is
 *    new and becomes the caller's; anything else means it is someone else's.
 * Refusals look exactly like a missing conversation (404), so ids cannot be probed.
 */
export function buildOwnershipCheck(deps: OwnershipDependencies) {
  const { owners, upstream, secrets } = deps

  function refuse(request: FastifyRequest): never {
    request.summary.rule = 'not_owner'
    throw new ConversationNotFound()
  }

  return async function assertOwnership(request: FastifyRequest, agentId: string, conversationId: string, userToken: string): Promise<void> {
    const userId = request.user.id
    const known = await owners.ownerOf(agentId, conversationId)
    if (known === userId) {
      request.summary.ownership = 'known'
      return
    }
    if (known !== undefined) refuse(request)

    const path = `/1/agents/${agentId}/conversations/${conversationId}`
    const asCaller = await upstream.request({ method: 'GET', path, headers: buildUpstreamRequestHeaders(request.headers, secrets.credentials(userToken), false) })
    let verdict: 'verified' | 'new'
    if (asCaller.statusCode === 200) {
      verdict = 'verified'
    } else {
      const asKey = await upstream.request({ method: 'GET', path, headers: buildUpstreamRequestHeaders(request.headers, secrets.credentials(undefined), false) })
      if (asKey.statusCode === 404) verdict = 'new'
      else if (asKey.statusCode === 200) {
        const owner = (asKey.body as { userToken?: unknown } | undefined)?.userToken
        if (typeof owner === 'string') await owners.claim(agentId, conversationId, owner)
        refuse(request)
      } else {
        throw Object.assign(new UpstreamError(), { cause: new Error(`ownership check answered ${asKey.statusCode}`) })
      }
    }
    // Two first messages racing for one new id: the claim decides who had it first.
    if ((await owners.claim(agentId, conversationId, userId)) !== userId) refuse(request)
    request.summary.ownership = verdict
  }
}

export type OwnershipCheck = ReturnType<typeof buildOwnershipCheck>
