import type { Dispatcher } from 'undici'
import type { GatewayConfig } from '../config/types.js'
import { readBoundedText } from '../http/read-bounded.js'
import { UserTokenMinter } from './user-token.js'

/** What `doctor` learned by calling Agent Studio itself; `not_checked` is never reported as ready. */
export interface ProbeResult {
  readonly status: 'ok' | 'fail' | 'not_checked'
  readonly title: string
  readonly detail?: string
}

/** The user the probe's token names: it has no conversations, so the call reads nothing of anyone's. */
const PROBE_USER = 'agent-studio-gateway-doctor'

const PROBE_CALL = 'GET /1/agents/{agentId}/conversations?page=1&limit=1'
const PROBE_COST = "ACL logs; 1 request per agent against Agent Studio's ~100 requests/min per application, no LLM call"

/**
 * Proves what the key audit cannot: that ALGOLIA_SECRET_KEY is the authentication key named by
 * ALGOLIA_KEY_ID (Agent Studio accepts a user token it signed) and that every ALLOWED_AGENT_IDS
 * entry is an agent of the application. Either mistake passes every other check and then fails
 * every chat with `502 upstream_auth_failed`.
 *
 * The cheapest call Agent Studio authenticates a user token on without running the agent is an
 * agent's conversation list (`x-acl: logs`, specs/agent-studio/paths/conversations/conversations.yml):
 * one per agent, with a token for PROBE_USER. With conversations and user data off the API key
 * has no `logs` ACL, and the only other call that checks both is a completion (an LLM call
 * billed to the application): then both checks are reported `not_checked`, never as passed.
 */
export async function probeAgentStudio(config: GatewayConfig, dispatcher: Dispatcher): Promise<ProbeResult[]> {
  const agents = [...config.policy.allowedAgentIds]
  if (!config.policy.enableConversations && !config.policy.enableUserData) {
    const detail = `the probe (${PROBE_CALL}) needs the logs ACL, which ALGOLIA_API_KEY should not have with ENABLE_CONVERSATIONS and ENABLE_USER_DATA off; the only other call that checks them runs the agent (an LLM call billed to the application)`
    return [
      { status: 'not_checked', title: 'not checked: ALGOLIA_SECRET_KEY signs user tokens Agent Studio accepts (for ALGOLIA_KEY_ID)', detail },
      { status: 'not_checked', title: `not checked: ALLOWED_AGENT_IDS (${agents.join(', ')}) exist in application ${config.algolia.appId}`, detail }
    ]
  }
  const minter = new UserTokenMinter({ key: { keyId: config.algolia.keyId, secret: config.algolia.secretKey }, ttlSeconds: 300 })
  const userToken = await minter.tokenFor(PROBE_USER)
  const answers = await Promise.all(agents.map(async (agentId) => ({ agentId, ...(await listOne(config, dispatcher, agentId, userToken)) })))

  const results: ProbeResult[] = []
  const tokenRefused = answers.find((answer) => answer.status === 401)
  const accepted = answers.some((answer) => answer.status === 200 || answer.status === 404)
  if (tokenRefused !== undefined && isUserTokenRefusal(tokenRefused.message)) {
    results.push({
      status: 'fail',
      title: `Agent Studio refuses user tokens signed with ALGOLIA_KEY_ID=${config.algolia.keyId} (HTTP 401: ${tokenRefused.message})`,
      detail:
        'ALGOLIA_SECRET_KEY must be the sk-alg-… authentication key whose ID is ALGOLIA_KEY_ID (Agent Studio dashboard, authentication keys); every chat would fail with 502 upstream_auth_failed'
    })
  } else if (tokenRefused !== undefined) {
    results.push({
      status: 'fail',
      title: `Agent Studio refuses ALGOLIA_APP_ID/ALGOLIA_API_KEY (HTTP 401: ${tokenRefused.message})`,
      detail: 'check ALGOLIA_APP_ID and ALGOLIA_API_KEY (a key pasted with quotes or spaces, or the sk-alg- secret in its place)'
    })
  } else if (accepted) {
    results.push({
      status: 'ok',
      title: `Agent Studio accepts user tokens signed with ALGOLIA_KEY_ID=${config.algolia.keyId}`,
      detail: `probe: ${PROBE_CALL} as user "${PROBE_USER}" (${PROBE_COST})`
    })
  }
  for (const answer of answers) {
    if (answer.status === 200) results.push({ status: 'ok', title: `agent ${answer.agentId} exists in application ${config.algolia.appId}` })
    else if (answer.status === 404 || answer.status === 422) {
      results.push({
        status: 'fail',
        title: `agent ${answer.agentId} is not an agent of application ${config.algolia.appId} (HTTP ${answer.status}: ${answer.message})`,
        detail: 'check ALLOWED_AGENT_IDS against the agent ids in the Agent Studio dashboard; every chat with it would fail'
      })
    } else if (answer.status === 403) {
      results.push({
        status: 'not_checked',
        title: `not checked: agent ${answer.agentId} (HTTP 403: ${answer.message})`,
        detail: 'ALGOLIA_API_KEY lacks the logs ACL that ENABLE_CONVERSATIONS / ENABLE_USER_DATA need (see the key audit)'
      })
    } else if (answer.status === 429) {
      results.push({
        status: 'not_checked',
        title: `not checked: agent ${answer.agentId} (HTTP 429: Agent Studio's per-application rate limit)`,
        detail: 'run doctor again in a minute'
      })
    } else if (answer.status !== 401) {
      results.push({
        status: 'fail',
        title: `agent ${answer.agentId}: the probe failed (${answer.status === 0 ? answer.message : `HTTP ${answer.status}: ${answer.message}`})`,
        detail: `probe: ${PROBE_CALL}`
      })
    }
  }
  return results
}

async function listOne(config: GatewayConfig, dispatcher: Dispatcher, agentId: string, userToken: string): Promise<{ status: number; message: string }> {
  const base = config.algolia.agentStudioUrl
  try {
    const response = await dispatcher.request({
      origin: base.origin,
      path: `${base.pathname}/1/agents/${encodeURIComponent(agentId)}/conversations?page=1&limit=1`,
      method: 'GET',
      headers: {
        'x-algolia-application-id': config.algolia.appId,
        'x-algolia-api-key': config.algolia.apiKey,
        'x-algolia-secure-user-token': userToken,
        accept: 'application/json'
      },
      signal: AbortSignal.timeout(5000)
    })
    return { status: response.statusCode, message: messageOf(await readBoundedText(response.body)) }
  } catch (error) {
    return { status: 0, message: (error as Error).message }
  }
}

/** Agent Studio's error bodies: `{ message }`, `{ detail: "…" }` or FastAPI's `{ detail: [{ msg }] }`; cut to a line. */
function messageOf(text: string): string {
  let message = text
  try {
    const body = JSON.parse(text) as { message?: unknown; detail?: unknown }
    if (typeof body.message === 'string') message = body.message
    else if (typeof body.detail === 'string') message = body.detail
    else if (Array.isArray(body.detail)) message = body.detail.map((entry: { msg?: unknown }) => String(entry.msg)).join('; ')
  } catch {
    // not JSON: the text itself
  }
  return message.length > 200 ? `${message.slice(0, 200)}…` : message
}

/** A 401 about the user token (wrong secret or key id, expired) rather than the app id or API key. */
function isUserTokenRefusal(message: string): boolean {
  return /token|signature|expired|kid|key id/i.test(message) && !/api key/i.test(message)
}

/**
 * Approved domains (issue 23): an agent with a non-empty list answers 403 to every completion
 * whose Origin does not match, or that has none (Algolia docs, Agent Studio "Approved domains").
 * The gateway sends UPSTREAM_ORIGIN / agents.<agentId>.upstreamOrigin as that Origin. The probe
 * sends each allowed agent a completion whose body Agent Studio must refuse
 * (`messages: "probe"`, not a list: 422 from its validation, no LLM call, nothing stored), with
 * the Origin the gateway would send: a 403 about the origin means chats with that agent would
 * all fail with 502 upstream_auth_failed. A 422 means the origin passed: Agent Studio (FastAPI)
 * resolves a request's checks before validating its body, and the stand-in models it so.
 * Cost: 1 request per agent against the application's ~100 requests/min; ACL search.
 */
export async function probeApprovedDomains(config: GatewayConfig, dispatcher: Dispatcher): Promise<ProbeResult[]> {
  const base = config.algolia.agentStudioUrl
  return Promise.all(
    config.policy.allowedAgentIds.map(async (agentId): Promise<ProbeResult> => {
      const origin = config.agents[agentId]?.upstreamOrigin ?? config.upstream.origin
      const setting = config.agents[agentId]?.upstreamOrigin !== undefined ? `agents.${agentId}.upstreamOrigin` : 'UPSTREAM_ORIGIN'
      let status: number
      let message: string
      try {
        const response = await dispatcher.request({
          origin: base.origin,
          path: `${base.pathname}/1/agents/${encodeURIComponent(agentId)}/completions?compatibilityMode=ai-sdk-5&stream=false&cache=false&memory=false&analytics=false`,
          method: 'POST',
          headers: {
            'x-algolia-application-id': config.algolia.appId,
            'x-algolia-api-key': config.algolia.apiKey,
            'content-type': 'application/json',
            accept: 'application/json',
            ...(origin === undefined ? {} : { origin })
          },
          body: JSON.stringify({ messages: 'probe' }),
          signal: AbortSignal.timeout(5000)
        })
        status = response.statusCode
        message = messageOf(await readBoundedText(response.body))
      } catch (error) {
        return { status: 'not_checked', title: `not checked: approved domains of agent ${agentId} (${(error as Error).message})` }
      }
      const sent = origin === undefined ? 'no Origin (UPSTREAM_ORIGIN is not set)' : `Origin ${origin} (${setting})`
      if (status === 403 && /origin|domain|referer/i.test(message)) {
        return {
          status: 'fail',
          title: `agent ${agentId} has approved domains and refuses the gateway's ${sent} (HTTP 403: ${message})`,
          detail:
            origin === undefined
              ? `set UPSTREAM_ORIGIN (every agent) or agents.${agentId}.upstreamOrigin in the policy file to one of the agent's approved domains, e.g. https://shop.example.com; until then every chat with it fails with 502 upstream_auth_failed`
              : `${origin} is not one of the agent's approved domains: set ${setting} to one that is, or add it to the agent's approved domains in the Agent Studio dashboard`
        }
      }
      if (status === 422 || status === 400)
        return {
          status: 'ok',
          title: `agent ${agentId} accepts the gateway's ${sent}`,
          detail: 'probe: a completion Agent Studio refuses as invalid (422, no LLM call); ACL search, 1 request per agent'
        }
      if (status === 429)
        return {
          status: 'not_checked',
          title: `not checked: approved domains of agent ${agentId} (HTTP 429: Agent Studio's per-application rate limit)`,
          detail: 'run doctor again in a minute'
        }
      return {
        status: 'not_checked',
        title: `not checked: approved domains of agent ${agentId} (HTTP ${status}: ${message})`,
        detail: 'the key audit and the probe above say why Agent Studio refused the call'
      }
    })
  )
}
