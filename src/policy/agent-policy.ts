import type { PolicyConfig } from '../config/types.js'
import { AgentNotAllowed, InvalidId } from '../errors.js'
import { isAgentId } from '../config/ids.js'

/** Shape first (400, never forwarded), then the allow-list (403). Returns the id to use upstream. */
export function buildAgentPolicy(policy: PolicyConfig): (agentId: unknown) => string {
  const allowed = new Set(policy.allowedAgentIds)
  return function checkAgent(agentId) {
    if (!isAgentId(agentId)) throw new InvalidId('agent id is not valid: ids are 1 to 128 letters, digits, "-" or "_", starting with a letter or digit')
    if (!allowed.has(agentId)) throw new AgentNotAllowed()
    return agentId
  }
}

/** The same check as an onRequest hook for routes with an `:agentId` parameter. */
export function buildAgentHook(policy: PolicyConfig) {
  const checkAgent = buildAgentPolicy(policy)
  return async function agentFromPath(request: { params: unknown; summary: { agentId?: string } }): Promise<void> {
    request.summary.agentId = checkAgent((request.params as { agentId?: unknown }).agentId)
  }
}
