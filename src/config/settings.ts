import { z } from 'zod'
import { COMPATIBILITY_MODES } from './types.js'

/**
 * Every tunable (non-secret) setting, once: where it lives in the config file, which
 * environment variable overrides it, and how it is validated. The README's settings table
 * is written from this list.
 */

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max)
const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1')
])
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess((value) => (typeof value === 'string' ? splitList(value) : value), z.array(item))

function splitList(value: string): string[] {
  return value.split(',').map((part) => part.trim()).filter((part) => part.length > 0)
}

export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/
const agentId = z.string().regex(AGENT_ID_PATTERN, 'agent ids are 1-128 letters, digits, "-" or "_"')
const origin = z.string().refine(isOrigin, 'each origin is scheme://host[:port] with no path, e.g. https://app.example.com')

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value
  } catch {
    return false
  }
}

// RFC 9110 §5.1 token; compared lower-case, as browsers send them in Access-Control-Request-Headers.
const headerName = z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/, 'header names only, e.g. content-type').transform((name) => name.toLowerCase())

export interface Setting {
  readonly path: readonly [string, string]
  readonly env: string
  readonly schema: z.ZodType
  readonly doc: string
}

const setting = (path: [string, string], env: string, schema: z.ZodType, doc: string): Setting => ({ path, env, schema, doc })

export const SETTINGS: readonly Setting[] = [
  setting(['server', 'host'], 'HOST', z.string().min(1).default('127.0.0.1'), 'listen address'),
  setting(['server', 'port'], 'PORT', int(0, 65535).default(3000), 'listen port'),
  setting(['server', 'shutdownGraceSeconds'], 'SHUTDOWN_GRACE_SECONDS', int(0, 3600).default(30), 'how long streams in flight may finish after SIGTERM/SIGINT'),
  setting(['server', 'maxEventLoopDelayMs'], 'MAX_EVENT_LOOP_DELAY_MS', int(0, 60_000).default(1000), 'event-loop delay above which new requests get 503 overloaded (0 disables)'),
  setting(['server', 'maxConnections'], 'MAX_CONNECTIONS', int(0, 1_000_000).default(0), 'most client connections open at once; more are closed on accept (0: derived from the descriptor limit, `ulimit -n`)'),
  setting(['server', 'headersTimeoutMs'], 'HEADERS_TIMEOUT_MS', int(1000, 600_000).default(10_000), 'time a client has to send the request line and headers (408 and closed after)'),
  setting(['server', 'requestTimeoutMs'], 'REQUEST_TIMEOUT_MS', int(1000, 3_600_000).default(30_000), 'time a client has to send the whole request, body included (408 and closed after)'),
  setting(['server', 'keepAliveTimeoutMs'], 'KEEP_ALIVE_TIMEOUT_MS', int(1000, 3_600_000).default(72_000), 'how long an idle kept-alive connection stays open (above your load balancer\'s idle timeout)'),
  setting(['server', 'connectionTimeoutMs'], 'CONNECTION_TIMEOUT_MS', int(1000, 86_400_000).default(120_000), 'a connection with no byte in either direction for this long is closed (above the upstream first-byte and idle timeouts)'),
  setting(['server', 'trustedProxies'], 'TRUSTED_PROXIES', list(z.string().min(1)).default([]), 'proxy addresses/CIDRs whose X-Forwarded-For is believed (none: the socket address is the client)'),
  setting(['server', 'metrics'], 'METRICS_ENABLED', bool.default(true), 'serve Prometheus metrics at /metrics'),
  setting(['server', 'metricsAllowFrom'], 'METRICS_ALLOW_FROM', list(z.string().min(1)).default([]), 'scrapers (IPs/CIDRs, the client address: the TCP peer unless it is a trusted proxy) allowed to read /metrics besides loopback and limits.allowList'),
  setting(['server', 'redisNamespace'], 'REDIS_NAMESPACE', z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and : _ . - only').optional(), 'prefix of every Redis key (default asg:<app id>:), so gateways of different apps can share a Redis'),
  setting(['server', 'skipKeyAudit'], 'SKIP_KEY_AUDIT', bool.default(false), 'start without asking Algolia for the keys\' ACLs (air-gapped starts only; logged loudly)'),
  setting(['searchKey', 'enabled'], 'ENABLE_SEARCH_KEY', bool.default(true), 'serve POST /search-key (per-user Secured API Keys for InstantSearch)'),
  setting(['searchKey', 'ttlSeconds'], 'SEARCH_KEY_TTL', int(60, 86_400).default(3600), 'validity of an issued Secured API Key'),
  setting(['searchKey', 'indices'], 'SEARCH_KEY_INDICES', list(z.string().regex(/^[^\s,]{1,256}$/, 'index names or patterns, without spaces or commas')).default([]), 'restrictIndices of every secured key (empty: the parent key\'s indices)'),
  setting(['searchKey', 'filters'], 'SEARCH_KEY_FILTERS', z.string().max(1024).default(''), 'filters template filled from session claims, e.g. tenant_id:{tenant} (values are quoted by the gateway)'),
  setting(['searchKey', 'agentTenantIsolation'], 'AGENT_TENANT_ISOLATION', bool.default(false), 'send Agent Studio a per-user Secured API Key (same filters and indices) instead of ALGOLIA_API_KEY'),
  setting(['policy', 'allowedAgentIds'], 'ALLOWED_AGENT_IDS', list(agentId).default([]), 'agents the browser may reach; any other id gets 403'),
  setting(['policy', 'allowedOrigins'], 'ALLOWED_ORIGINS', list(origin).default([]), 'origins allowed by CORS (with credentials) and the CSRF check'),
  setting(['policy', 'corsAllowedHeaders'], 'CORS_ALLOWED_HEADERS', list(headerName).default(['content-type', 'authorization', 'traceparent', 'tracestate']), 'request headers a cross-origin page may send (CORS preflight); only the header boundary\'s own allow-list ever goes upstream'),
  setting(['policy', 'compatibilityModes'], 'COMPATIBILITY_MODES', list(z.enum(COMPATIBILITY_MODES)).pipe(z.array(z.enum(COMPATIBILITY_MODES)).min(1, 'allow at least one mode')).default([...COMPATIBILITY_MODES]), 'compatibilityMode values the browser may ask for'),
  setting(['policy', 'upstreamCache'], 'UPSTREAM_CACHE', bool.default(true), 'value of the `cache` query parameter sent upstream'),
  setting(['policy', 'upstreamAnalytics'], 'UPSTREAM_ANALYTICS', bool.default(true), 'value of the `analytics` query parameter sent upstream'),
  setting(['policy', 'allowConfiguration'], 'ALLOW_CONFIGURATION', bool.default(false), 'let the browser send `configuration` (replaces the agent prompt and tools)'),
  setting(['policy', 'allowMcpServers'], 'ALLOW_MCP_SERVERS', bool.default(false), 'let the browser send `algolia.mcpServers`'),
  setting(['policy', 'allowSearchParameters'], 'ALLOW_SEARCH_PARAMETERS', bool.default(false), 'let the browser send `algolia.searchParameters`'),
  setting(['policy', 'allowIndices'], 'ALLOW_INDICES', bool.default(false), 'let the browser send `algolia.indices`'),
  setting(['policy', 'allowToolApprovals'], 'ALLOW_TOOL_APPROVALS', bool.default(true), 'let the browser send `toolApprovals`'),
  setting(['policy', 'allowSystemMessages'], 'ALLOW_SYSTEM_MESSAGES', bool.default(false), 'let the browser send messages with role "system"'),
  setting(['policy', 'enableConversations'], 'ENABLE_CONVERSATIONS', bool.default(true), 'serve conversation list/read/delete (needs an API key with the logs ACL)'),
  setting(['policy', 'enableFeedback'], 'ENABLE_FEEDBACK', bool.default(true), 'serve POST /agent-studio/1/feedback'),
  setting(['policy', 'enableUserData'], 'ENABLE_USER_DATA', bool.default(true), 'serve export/erasure of the caller\'s own data (needs the logs ACL)'),
  setting(['policy', 'maxMessages'], 'MAX_MESSAGES', int(1, 10_000).default(100), 'most messages in one completion request'),
  setting(['policy', 'bodyLimitBytes'], 'BODY_LIMIT_BYTES', int(1024, 64 * 1024 * 1024).default(512 * 1024), 'largest request body accepted (413 above)'),
  setting(['policy', 'allowCookieRequestsWithoutOrigin'], 'ALLOW_COOKIE_REQUESTS_WITHOUT_ORIGIN', bool.default(true), 'accept cookie sessions on requests with no Origin and no Sec-Fetch-Site (non-browser callers)'),
  setting(['upstream', 'connectTimeoutMs'], 'UPSTREAM_CONNECT_TIMEOUT_MS', int(1, 600_000).default(5000), 'connect timeout to Agent Studio'),
  setting(['upstream', 'firstByteTimeoutMs'], 'UPSTREAM_FIRST_BYTE_TIMEOUT_MS', int(1, 3_600_000).default(30_000), 'time allowed until response headers arrive'),
  setting(['upstream', 'idleTimeoutMs'], 'UPSTREAM_IDLE_TIMEOUT_MS', int(1, 3_600_000).default(60_000), 'longest gap between two chunks of a stream'),
  setting(['upstream', 'totalTimeoutMs'], 'UPSTREAM_TOTAL_TIMEOUT_MS', int(1, 86_400_000).default(600_000), 'longest total duration of one upstream call'),
  setting(['upstream', 'maxConnections'], 'UPSTREAM_MAX_CONNECTIONS', int(1, 1_000_000).default(16_384), 'upstream connection pool size (one open stream holds one connection)'),
  setting(['session', 'cookieName'], 'SESSION_COOKIE_NAME', z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be a valid cookie name').default('session'), 'cookie that carries the session'),
  setting(['session', 'userIdClaim'], 'SESSION_USER_ID_CLAIM', z.string().min(1).default('sub'), 'session JWT claim holding the user id'),
  setting(['session', 'maxAgeSeconds'], 'SESSION_MAX_AGE_SECONDS', int(60, 31_536_000).default(2_592_000), 'a session JWT whose exp is further away than this is refused (no year-9999 tokens)'),
  setting(['session', 'tenantClaim'], 'SESSION_TENANT_CLAIM', z.string().min(1).optional(), 'session claim (or forward-auth answer field) holding the tenant: user ids become <tenant>:<user> everywhere; sessions without it get 401'),
  setting(['session', 'clockToleranceSeconds'], 'SESSION_CLOCK_TOLERANCE_SECONDS', int(0, 300).default(5), 'leeway for exp/nbf'),
  setting(['session', 'jwksCooldownSeconds'], 'SESSION_JWKS_COOLDOWN_SECONDS', int(0, 3600).default(30), 'least time between two JWKS fetches'),
  setting(['session', 'jwksCacheMaxAgeSeconds'], 'SESSION_JWKS_CACHE_MAX_AGE_SECONDS', int(0, 604_800).default(600), 'JWKS refresh interval (0: refetch on every verification)'),
  setting(['session', 'jwksTimeoutMs'], 'SESSION_JWKS_TIMEOUT_MS', int(1, 60_000).default(5000), 'JWKS fetch timeout'),
  setting(['session', 'introspectTimeoutMs'], 'SESSION_INTROSPECT_TIMEOUT_MS', int(1, 60_000).default(3000), 'forward-auth timeout'),
  setting(['session', 'introspectCacheSeconds'], 'SESSION_INTROSPECT_CACHE_SECONDS', int(0, 3600).default(30), 'how long a positive forward-auth answer is reused (0: never)'),
  setting(['session', 'introspectCacheMax'], 'SESSION_INTROSPECT_CACHE_MAX', int(1, 10_000_000).default(10_000), 'most cached forward-auth answers'),
  setting(['userToken', 'ttlSeconds'], 'USER_TOKEN_TTL', int(60, 86_400).default(3600), 'lifetime of the minted X-Algolia-Secure-User-Token'),
  setting(['tracing', 'enabled'], 'TRACING_ENABLED', bool.default(false), 'OpenTelemetry tracing (also on when OTEL_EXPORTER_OTLP_ENDPOINT is set)'),
  setting(['tracing', 'parentOrigins'], 'TRACE_PARENT_ORIGINS', z.preprocess((value) => (value === 'none' ? [] : value), list(origin)).optional(), 'origins whose traceparent header is honoured (default: ALLOWED_ORIGINS; none: never)'),
  setting(['tracing', 'sampleRatio'], 'TRACE_SAMPLE_RATIO', z.coerce.number().min(0).max(1).default(1), 'share of new traces recorded (a honoured parent\'s sampling decision wins)'),
  setting(['log', 'level'], 'LOG_LEVEL', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'), 'pino log level')
]

/** Secrets and endpoints: environment only (each also as NAME_FILE), never in the config file. */
export const SECRET_VARIABLES = [
  'REDIS_URL',
  'ALGOLIA_API_KEY',
  'ALGOLIA_SEARCH_KEY',
  'ALGOLIA_SECRET_KEY',
  'SESSION_JWT_SECRET',
  'SESSION_JWT_PUBLIC_KEY'
] as const

export const ENVIRONMENT_ONLY_VARIABLES = [
  'ALGOLIA_APP_ID',
  'ALGOLIA_KEY_ID',
  'AGENT_STUDIO_URL',
  'ALGOLIA_SEARCH_API_URL',
  'SESSION_JWT_ISSUER',
  'SESSION_JWT_AUDIENCE',
  'SESSION_JWKS_URL',
  'SESSION_INTROSPECT_URL',
  'GATEWAY_CONFIG_FILE',
  'NODE_ENV',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_SERVICE_NAME'
] as const

/** The shape SETTINGS resolve to (each value already validated by its schema). */
export interface ResolvedSettings {
  server: {
    host: string
    port: number
    shutdownGraceSeconds: number
    maxEventLoopDelayMs: number
    maxConnections: number
    headersTimeoutMs: number
    requestTimeoutMs: number
    keepAliveTimeoutMs: number
    connectionTimeoutMs: number
    trustedProxies: string[]
    metrics: boolean
    metricsAllowFrom: string[]
    redisNamespace: string | undefined
    skipKeyAudit: boolean
  }
  searchKey: { enabled: boolean; ttlSeconds: number; indices: string[]; filters: string; agentTenantIsolation: boolean }
  policy: {
    allowedAgentIds: string[]
    allowedOrigins: string[]
    corsAllowedHeaders: string[]
    compatibilityModes: Array<(typeof COMPATIBILITY_MODES)[number]>
    upstreamCache: boolean
    upstreamAnalytics: boolean
    allowConfiguration: boolean
    allowMcpServers: boolean
    allowSearchParameters: boolean
    allowIndices: boolean
    allowToolApprovals: boolean
    allowSystemMessages: boolean
    enableConversations: boolean
    enableFeedback: boolean
    enableUserData: boolean
    maxMessages: number
    bodyLimitBytes: number
    allowCookieRequestsWithoutOrigin: boolean
  }
  upstream: { connectTimeoutMs: number; firstByteTimeoutMs: number; idleTimeoutMs: number; totalTimeoutMs: number; maxConnections: number }
  session: {
    cookieName: string
    userIdClaim: string
    maxAgeSeconds: number
    tenantClaim: string | undefined
    clockToleranceSeconds: number
    jwksCooldownSeconds: number
    jwksCacheMaxAgeSeconds: number
    jwksTimeoutMs: number
    introspectTimeoutMs: number
    introspectCacheSeconds: number
    introspectCacheMax: number
  }
  userToken: { ttlSeconds: number }
  tracing: { enabled: boolean; parentOrigins: string[] | undefined; sampleRatio: number }
  log: { level: string }
}
