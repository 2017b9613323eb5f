import { z } from 'zod'
import type { Frozen } from './frozen.js'
import { AGENT_ID_PATTERN } from './ids.js'

/**
 * Per-agent settings (issue 23): the policy file's `agents:` section, keyed by agent id. Like
 * the limits, it is validated at start and on every reload, and reloaded with them in one
 * step (src/config/policy-reloader.ts): invalid, and what is in force stays. Deployment-wide
 * defaults are ordinary settings (UPSTREAM_ORIGIN); an agent's own entry overrides them.
 *
 * ```yaml
 * agents:
 *   shop-assistant:
 *     upstreamOrigin: https://shop.example.com   # its approved domain in Agent Studio
 *     cache: shared                              # its answers are the same for everyone
 * ```
 */

/** An origin: scheme://host[:port], nothing else (it becomes the upstream `Origin` header). */
export const originSchema = z.string().refine((value) => {
  try {
    const url = new URL(value)
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value
  } catch {
    return false
  }
}, 'an origin is scheme://host[:port] with no path, e.g. https://shop.example.com')

/**
 * `personal` (default): the shared completion cache is used only when nothing about the answer
 * can be personal (src/policy/upstream-cache.ts). `shared`: ops declare that this agent's
 * answers are the same for everyone (no memory, no per-user data): the cache is kept, except
 * for requests that carry per-user restrictions or context, which no declaration can cover.
 */
export const AGENT_CACHE_MODES = ['personal', 'shared'] as const
export type AgentCacheMode = (typeof AGENT_CACHE_MODES)[number]

/** A tool name as Agent Studio's tool parts carry it (`tool-<name>`). */
const toolName = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'tool names are 1-128 letters, digits, "_", "." or "-"')

const agentSettings = z
  .object({
    upstreamOrigin: originSchema.optional(),
    cache: z.enum(AGENT_CACHE_MODES).default('personal'),
    /**
     * Issue 24: the tools whose approval the browser may answer. Deny by default: an approval for
     * any other tool is refused (403 tool_not_approvable) before Agent Studio.
     */
    approvableTools: z.array(toolName).max(100).default([])
  })
  .strict()

export const agentsSchema = z.record(
  z.string().regex(AGENT_ID_PATTERN, 'agent ids are 1-128 letters, digits, "-" or "_"'),
  agentSettings.default({ cache: 'personal', approvableTools: [] })
)

export type AgentSettings = Frozen<z.output<typeof agentSettings>>
export type AgentsConfig = Frozen<Record<string, AgentSettings>>

/** The settings of an agent with no entry of its own. */
export const DEFAULT_AGENT_SETTINGS: AgentSettings = Object.freeze({ cache: 'personal', approvableTools: Object.freeze([]) })

/**
 * Validates an `agents:` section. An entry for an agent that ALLOWED_AGENT_IDS does not list is
 * a problem: it is a typo (its settings would silently apply to nobody) or a leftover.
 */
export interface AgentsContext {
  /** ALLOWED_AGENT_IDS: an entry for any other agent is a problem. */
  readonly allowedAgentIds: readonly string[]
  /** AGENT_TENANT_ISOLATION: every answer is per tenant, so no agent's cache can be `shared`. */
  readonly agentTenantIsolation: boolean
}

export function parseAgents(raw: unknown, source: string, context: AgentsContext): { agents: AgentsConfig } | { problems: string[] } {
  const result = agentsSchema.safeParse(raw ?? {})
  if (!result.success) return { problems: result.error.issues.map((issue) => `${source} agents.${issue.path.join('.')}: ${issue.message}`) }
  const allowed = new Set(context.allowedAgentIds)
  const problems = Object.keys(result.data)
    .filter((id) => !allowed.has(id))
    .map((id) => `${source} agents.${id}: not in ALLOWED_AGENT_IDS (a typo, or an agent the browser cannot reach)`)
  if (context.agentTenantIsolation) {
    for (const [id, settings] of Object.entries(result.data)) {
      if (settings.cache === 'shared')
        problems.push(
          `${source} agents.${id}.cache: shared cannot be used with AGENT_TENANT_ISOLATION (each user's searches are restricted, so no answer is the same for everyone)`
        )
    }
  }
  if (problems.length > 0) return { problems }
  return { agents: result.data }
}
