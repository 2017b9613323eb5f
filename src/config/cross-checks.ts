import { addressEntryProblem } from './addresses.js'
import type { Settings } from './settings.js'

/**
 * Rules that span settings, or that a valid setting can still break. Each adds to the
 * problems (start refused) or warnings (logged at start), so every finding is reported at once.
 */

export function timeoutProblems(settings: Settings, problems: string[]): void {
  const { server, upstream } = settings
  if (server.headersTimeoutMs > server.requestTimeoutMs)
    problems.push(
      `HEADERS_TIMEOUT_MS (${server.headersTimeoutMs}) must not exceed REQUEST_TIMEOUT_MS (${server.requestTimeoutMs}): the headers are part of the request`
    )
  const longestQuietUpstreamPhase = Math.max(upstream.firstByteTimeoutMs, upstream.idleTimeoutMs)
  if (server.connectionTimeoutMs <= longestQuietUpstreamPhase) {
    problems.push(
      `CONNECTION_TIMEOUT_MS (${server.connectionTimeoutMs}) must exceed UPSTREAM_FIRST_BYTE_TIMEOUT_MS and UPSTREAM_IDLE_TIMEOUT_MS (${longestQuietUpstreamPhase}): a browser waiting for a slow answer sends and receives nothing meanwhile`
    )
  }
}

/** Outside the demo, a gateway that allows no agent refuses every completion. */
export function noAgentProblem(allowedAgentIds: readonly string[], problems: string[], warnings: string[], production: boolean): void {
  if (allowedAgentIds.length > 0) return
  const message = 'ALLOWED_AGENT_IDS: no agent is allowed, so every completion will be refused with 403'
  if (production) problems.push(message)
  else warnings.push(message)
}

/**
 * Outside the demo, an empty list means only same-origin pages (served by the gateway or
 * through a same-origin reverse proxy) can use it: say so, since a browser's CORS refusal
 * is invisible on the server.
 */
export function noOriginWarning(allowedOrigins: readonly string[], warnings: string[]): void {
  if (allowedOrigins.length > 0) return
  warnings.push(
    "ALLOWED_ORIGINS is empty: no other origin is allowed, so only pages served from the gateway's own origin (or through a same-origin reverse proxy) can call it; list your app's origin, e.g. ALLOWED_ORIGINS=https://app.example.com"
  )
}

/** One problem per bad entry, so each is named. */
export function addressProblems(settings: Settings, problems: string[]): void {
  for (const [name, entries] of [
    ['TRUSTED_PROXIES', settings.server.trustedProxies],
    ['METRICS_ALLOW_FROM', settings.server.metricsAllowFrom]
  ] as const) {
    for (const entry of entries) {
      const problem = addressEntryProblem(entry)
      if (problem !== undefined) problems.push(`${name}: ${problem}`)
    }
  }
}

/** Long chats (issue 23): compact needs both its provider and its model; trim reads bodies up to its own limit. */
export function longChatProblems(settings: Settings, problems: string[]): void {
  const { compactProviderId, compactModel, contextTrim, contextTrimBodyLimitBytes, bodyLimitBytes } = settings.policy
  if ((compactProviderId === undefined) !== (compactModel === undefined))
    problems.push('COMPACT_PROVIDER_ID and COMPACT_MODEL: set both (context/compact is served with a pinned provider and model) or neither')
  if (contextTrim && contextTrimBodyLimitBytes < bodyLimitBytes)
    problems.push(
      `CONTEXT_TRIM_BODY_LIMIT_BYTES (${contextTrimBodyLimitBytes}) must be at least BODY_LIMIT_BYTES (${bodyLimitBytes}): it is the limit of bodies read before trimming`
    )
}
