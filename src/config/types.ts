import type { LimitsConfig } from './limits.js'

/** The validated, frozen configuration every other module receives as an argument. */

export const COMPATIBILITY_MODES = ['ai-sdk-4', 'ai-sdk-5', 'ag-ui'] as const
export type CompatibilityMode = (typeof COMPATIBILITY_MODES)[number]

export type SessionKey =
  | { readonly type: 'secret'; readonly secret: Uint8Array }
  | { readonly type: 'public-key'; readonly pem: string }
  | { readonly type: 'jwks'; readonly url: URL; readonly cooldownMs: number; readonly cacheMaxAgeMs: number; readonly timeoutMs: number }

export interface JwtSessionConfig {
  readonly kind: 'jwt'
  readonly key: SessionKey
  readonly issuer: string | undefined
  readonly audience: string | undefined
  readonly userIdClaim: string
  /** A token whose exp lies further ahead than this is refused (SESSION_MAX_AGE_SECONDS). */
  readonly maxAgeSeconds: number
  readonly clockToleranceSeconds: number
  readonly cookieName: string
  /** SESSION_TENANT_CLAIM: the user id becomes `<tenant>:<user>`. */
  readonly tenantClaim: string | undefined
}

export interface IntrospectSessionConfig {
  readonly kind: 'introspect'
  readonly url: URL
  readonly timeoutMs: number
  readonly cacheTtlMs: number
  readonly cacheMax: number
  readonly cookieName: string
  /** SESSION_TENANT_CLAIM: a field of the session endpoint's answer; the user id becomes `<tenant>:<user>`. */
  readonly tenantClaim: string | undefined
}

export type SessionConfig = JwtSessionConfig | IntrospectSessionConfig

export interface AlgoliaConfig {
  readonly appId: string
  readonly apiKey: string
  readonly keyId: string
  readonly secretKey: string
  /** Upstream base including `/agent-studio`, without a trailing slash. */
  readonly agentStudioUrl: URL
  /**
   * Parent of the browser's Secured API Keys (ALGOLIA_SEARCH_KEY). Never defaults to the API
   * key (which may carry `logs`): unset, POST /search-key is not served.
   */
  readonly searchKey: string | undefined
  /** Search API host for the key audit (`GET /1/keys/{key}`). */
  readonly searchApiUrl: URL
}

export interface SearchKeyConfig {
  readonly enabled: boolean
  readonly ttlSeconds: number
  readonly indices: readonly string[]
  /** Filters template, e.g. `tenant_id:{tenant}`; '' for none. */
  readonly filters: string
  readonly agentTenantIsolation: boolean
}

export interface PolicyConfig {
  readonly allowedAgentIds: readonly string[]
  readonly allowedOrigins: readonly string[]
  /** Request headers CORS lets a cross-origin page send (lower case). Upstream still gets only the header boundary's. */
  readonly corsAllowedHeaders: readonly string[]
  readonly compatibilityModes: readonly CompatibilityMode[]
  /** Pinned by ops, never chosen by the browser. */
  readonly upstreamCache: boolean
  readonly upstreamAnalytics: boolean
  readonly allowConfiguration: boolean
  readonly allowMcpServers: boolean
  readonly allowSearchParameters: boolean
  readonly allowIndices: boolean
  readonly allowToolApprovals: boolean
  readonly allowSystemMessages: boolean
  /** Conversation list/read/delete routes (the API key needs `logs`). */
  readonly enableConversations: boolean
  readonly enableFeedback: boolean
  /** Export/erasure of the caller's own data (the API key needs `logs`). */
  readonly enableUserData: boolean
  readonly maxMessages: number
  readonly bodyLimitBytes: number
  /** Cookie-authenticated requests that carry neither Origin nor Sec-Fetch-Site (non-browser callers). */
  readonly allowCookieRequestsWithoutOrigin: boolean
}

export interface UpstreamConfig {
  readonly connectTimeoutMs: number
  readonly firstByteTimeoutMs: number
  readonly idleTimeoutMs: number
  readonly totalTimeoutMs: number
  readonly maxConnections: number
}

export interface ServerConfig {
  readonly host: string
  readonly port: number
  readonly shutdownGraceMs: number
  readonly maxEventLoopDelayMs: number
  /** Most client connections open at once (0: derived from the descriptor limit at start). */
  readonly maxConnections: number
  readonly headersTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly connectionTimeoutMs: number
  /** Proxies whose X-Forwarded-For is believed; empty: the socket address is the client. */
  readonly trustedProxies: readonly string[]
  readonly metrics: boolean
  /** Scrapers allowed to read /metrics besides loopback and limits.allowList (TCP peer addresses/CIDRs). */
  readonly metricsAllowFrom: readonly string[]
  readonly skipKeyAudit: boolean
}

/** OpenTelemetry tracing: absent (undefined) when off, so nothing of it is loaded or run. */
export interface TracingConfig {
  /** OTLP/HTTP traces URL (OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces). */
  readonly tracesUrl: URL
  readonly serviceName: string
  /** Origins whose `traceparent` is honoured; any other request starts a new trace. */
  readonly parentOrigins: readonly string[]
  readonly sampleRatio: number
}

export interface RedisConfig {
  /** Unset: limits and stream caps are kept in this process's memory. */
  readonly url: string | undefined
  /** Prefix of every key, so gateways of different apps can share one Redis. */
  readonly namespace: string
}

export interface GatewayConfig {
  readonly production: boolean
  /** True when nothing was configured: the embedded demo supplies upstream, keys and sign-in. */
  readonly demo: boolean
  readonly server: ServerConfig
  readonly algolia: AlgoliaConfig
  readonly userToken: { readonly ttlSeconds: number }
  readonly searchKey: SearchKeyConfig
  readonly session: SessionConfig
  readonly policy: PolicyConfig
  readonly upstream: UpstreamConfig
  readonly log: { readonly level: string; readonly pretty: boolean }
  readonly tracing: TracingConfig | undefined
  /** Live-tunable: replaced on SIGHUP reload. */
  readonly limits: LimitsConfig
  readonly redis: RedisConfig
  /** Where the policy file was read from, if any (for the start-up log). */
  readonly configFile: string | undefined
}
