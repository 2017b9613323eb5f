import { z } from 'zod'
import { AGENT_ID_PATTERN } from '../policy/ids.js'

export const COMPATIBILITY_MODES = ['ai-sdk-4', 'ai-sdk-5', 'ag-ui'] as const
export type CompatibilityMode = (typeof COMPATIBILITY_MODES)[number]

/**
 * Every tunable (non-secret) setting, once: its section and key in the policy file, the
 * environment variable that overrides it, how it is validated, and its line in the README's
 * settings table. The settings' type is this schema's output: there is no second copy.
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

interface SettingInfo {
  /** The environment variable that overrides the file's value. */
  readonly env: string
  /** The README's description. */
  readonly doc: string
}

const settingInfo = z.registry<SettingInfo>()

function setting<T extends z.ZodType>(env: string, schema: T, doc: string): T {
  if (settingInfo.has(schema)) throw new Error(`${env}: each setting needs its own schema instance`)
  settingInfo.add(schema, { env, doc })
  return schema
}

export const settingsSchema = z.object({
  server: z.object({
    host: setting('HOST', z.string().min(1).default('127.0.0.1'), 'listen address'),
    port: setting('PORT', int(0, 65535).default(3000), 'listen port'),
    shutdownGraceSeconds: setting('SHUTDOWN_GRACE_SECONDS', int(0, 3600).default(30), 'how long streams in flight may finish after SIGTERM/SIGINT'),
    maxEventLoopDelayMs: setting('MAX_EVENT_LOOP_DELAY_MS', int(0, 60_000).default(1000), 'event-loop delay above which new requests get 503 overloaded (0 disables)'),
    maxConnections: setting('MAX_CONNECTIONS', int(0, 1_000_000).default(0), 'most client connections open at once; more are closed on accept (0: derived from the descriptor limit, `ulimit -n`)'),
    adminPort: setting('ADMIN_PORT', int(0, 65535).default(0), 'a second listener for /healthz, /readyz and /metrics only, off the public listener and its connection cap, for probes and scrapers (0: none; they stay on the public listener)'),
    adminHost: setting('ADMIN_HOST', z.string().min(1).default('127.0.0.1'), 'address of the admin listener (Kubernetes: 0.0.0.0, with a NetworkPolicy); on it /metrics is served to any peer that can connect'),
    adminRoutesOnPublic: setting('ADMIN_ROUTES_ON_PUBLIC', bool.default(false), 'with ADMIN_PORT, also serve /healthz, /readyz and /metrics on the public listener (compatibility)'),
    maxConnectionsPerAddress: setting('MAX_CONNECTIONS_PER_ADDRESS', int(0, 1_000_000).default(0), 'most client connections one address (an IPv6 client: its /64) may hold open; more are closed on accept. Trusted proxies are exempt (0: a twentieth of the connection cap, at least 16)'),
    headersTimeoutMs: setting('HEADERS_TIMEOUT_MS', int(1000, 600_000).default(10_000), 'time a client has to send the request line and headers (408 and closed after)'),
    requestTimeoutMs: setting('REQUEST_TIMEOUT_MS', int(1000, 3_600_000).default(30_000), 'time a client has to send the whole request, body included (408 and closed after)'),
    keepAliveTimeoutMs: setting('KEEP_ALIVE_TIMEOUT_MS', int(1000, 3_600_000).default(72_000), 'how long an idle kept-alive connection stays open (above your load balancer\'s idle timeout)'),
    connectionTimeoutMs: setting('CONNECTION_TIMEOUT_MS', int(1000, 86_400_000).default(120_000), 'a connection with no byte in either direction for this long is closed (above the upstream first-byte and idle timeouts)'),
    trustedProxies: setting('TRUSTED_PROXIES', list(z.string().min(1)).default([]), 'proxy addresses/CIDRs whose X-Forwarded-For is believed (none: the socket address is the client)'),
    metrics: setting('METRICS_ENABLED', bool.default(true), 'serve Prometheus metrics at /metrics'),
    metricsAllowFrom: setting('METRICS_ALLOW_FROM', list(z.string().min(1)).default([]), 'scrapers (IPs/CIDRs, the client address: the TCP peer unless it is a trusted proxy) allowed to read /metrics besides loopback and limits.allowList'),
    redisNamespace: setting('REDIS_NAMESPACE', z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and : _ . - only').optional(), 'prefix of every Redis key (default asg:<app id>:), so gateways of different apps can share a Redis'),
    policyReloadIntervalSeconds: setting('POLICY_RELOAD_INTERVAL_SECONDS', int(0, 3600).default(5), 'how often the policy file is checked for a change, which is then applied without a restart (a Kubernetes ConfigMap update included); 0: on SIGHUP only'),
    skipKeyAudit: setting('SKIP_KEY_AUDIT', bool.default(false), 'start without asking Algolia for the keys\' ACLs (air-gapped starts only; logged loudly)')
  }),
  searchKey: z.object({
    enabled: setting('ENABLE_SEARCH_KEY', bool.default(true), 'serve POST /search-key (per-user Secured API Keys for InstantSearch)'),
    ttlSeconds: setting('SEARCH_KEY_TTL', int(60, 86_400).default(3600), 'validity of an issued Secured API Key'),
    indices: setting('SEARCH_KEY_INDICES', list(z.string().regex(/^[^\s,]{1,256}$/, 'index names or patterns, without spaces or commas')).default([]), 'restrictIndices of every secured key (empty: the parent key\'s indices)'),
    filters: setting('SEARCH_KEY_FILTERS', z.string().max(1024).default(''), 'filters template filled from session claims, e.g. tenant_id:{tenant} (values are quoted by the gateway)'),
    agentTenantIsolation: setting('AGENT_TENANT_ISOLATION', bool.default(false), 'send Agent Studio a per-user Secured API Key (same filters and indices) instead of ALGOLIA_API_KEY')
  }),
  policy: z.object({
    allowedAgentIds: setting('ALLOWED_AGENT_IDS', list(agentId).default([]), 'agents the browser may reach; any other id gets 403'),
    allowedOrigins: setting('ALLOWED_ORIGINS', list(origin).default([]), 'origins allowed by CORS (with credentials) and the CSRF check'),
    corsAllowedHeaders: setting('CORS_ALLOWED_HEADERS', list(headerName).default(['content-type', 'authorization', 'traceparent', 'tracestate', 'x-algolia-referer']), 'request headers a cross-origin page may send (CORS preflight); only the header boundary\'s own allow-list ever goes upstream (x-algolia-referer: InstantSearch\'s AI-mode entry points, validated and forwarded)'),
    compatibilityModes: setting('COMPATIBILITY_MODES', list(z.enum(COMPATIBILITY_MODES)).pipe(z.array(z.enum(COMPATIBILITY_MODES)).min(1, 'allow at least one mode')).default(['ai-sdk-4', 'ai-sdk-5']), 'compatibilityMode values the browser may ask for (ag-ui is off unless listed: Algolia\'s published spec has only the AI SDK modes)'),
    upstreamCache: setting('UPSTREAM_CACHE', bool.default(true), 'the `cache` query parameter sent upstream (false: answers are never cached)'),
    upstreamCachePolicy: setting('UPSTREAM_CACHE_POLICY', z.enum(['browser-may-bypass', 'pinned']).default('browser-may-bypass'), 'browser-may-bypass: `cache=false` or a regenerate trigger gets a fresh answer; pinned: always UPSTREAM_CACHE'),
    upstreamAnalytics: setting('UPSTREAM_ANALYTICS', bool.default(true), 'value of the `analytics` query parameter sent upstream'),
    allowConfiguration: setting('ALLOW_CONFIGURATION', bool.default(false), 'let the browser send `configuration` (replaces the agent prompt and tools)'),
    allowMcpServers: setting('ALLOW_MCP_SERVERS', bool.default(false), 'let the browser send `algolia.mcpServers`'),
    allowSearchParameters: setting('ALLOW_SEARCH_PARAMETERS', bool.default(false), 'let the browser send `algolia.searchParameters`'),
    allowIndices: setting('ALLOW_INDICES', bool.default(false), 'let the browser send `algolia.indices`'),
    allowToolApprovals: setting('ALLOW_TOOL_APPROVALS', bool.default(true), 'let the browser send `toolApprovals`'),
    allowSystemMessages: setting('ALLOW_SYSTEM_MESSAGES', bool.default(false), 'let the browser send messages with role "system"'),
    enableConversations: setting('ENABLE_CONVERSATIONS', bool.default(true), 'serve conversation list/read/delete (needs an API key with the logs ACL)'),
    enableFeedback: setting('ENABLE_FEEDBACK', bool.default(true), 'serve POST /agent-studio/1/feedback'),
    enableUserData: setting('ENABLE_USER_DATA', bool.default(true), 'serve export/erasure of the caller\'s own data (needs the logs ACL)'),
    maxMessages: setting('MAX_MESSAGES', int(1, 10_000).default(500), 'most messages in one completion request (a 200-message chat uses 200)'),
    bodyLimitBytes: setting('BODY_LIMIT_BYTES', int(1024, 64 * 1024 * 1024).default(2 * 1024 * 1024), 'largest request body accepted (413 above; a 200-message chat with search results is about 1 MiB)'),
    taskBodyLimitBytes: setting('TASK_BODY_LIMIT_BYTES', int(1024, 16 * 1024 * 1024).default(64 * 1024), 'largest tasks request body (its free-form `input`; 413 above)'),
    contextTrim: setting('CONTEXT_TRIM', bool.default(false), 'a completion over MAX_MESSAGES or BODY_LIMIT_BYTES is first shortened by Agent Studio\'s `context/trim` (no LLM call) instead of refused; costs one extra upstream call, counted in the budget and the user\'s limit'),
    contextTrimBodyLimitBytes: setting('CONTEXT_TRIM_BODY_LIMIT_BYTES', int(1024, 64 * 1024 * 1024).default(8 * 1024 * 1024), 'with CONTEXT_TRIM: the largest completion body read at all (413 above); bodies between BODY_LIMIT_BYTES and this are trimmed'),
    compactProviderId: setting('COMPACT_PROVIDER_ID', z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a provider id from the Agent Studio dashboard').optional(), 'with COMPACT_MODEL: serve POST /agent-studio/1/context/compact, summarised by this provider (billed to the application; the browser never chooses it)'),
    compactModel: setting('COMPACT_MODEL', z.string().regex(/^[A-Za-z0-9_.:\/-]{1,128}$/, 'a model name, e.g. gpt-4o-mini').optional(), 'the model `context/compact` summarises with (with COMPACT_PROVIDER_ID); each user\'s allowance is limits.routes.compact'),
    allowCookieRequestsWithoutOrigin: setting('ALLOW_COOKIE_REQUESTS_WITHOUT_ORIGIN', bool.default(true), 'accept cookie sessions on requests with no Origin and no Sec-Fetch-Site (non-browser callers)')
  }),
  upstream: z.object({
    connectTimeoutMs: setting('UPSTREAM_CONNECT_TIMEOUT_MS', int(1, 600_000).default(5000), 'connect timeout to Agent Studio'),
    firstByteTimeoutMs: setting('UPSTREAM_FIRST_BYTE_TIMEOUT_MS', int(1, 3_600_000).default(30_000), 'time allowed until response headers arrive'),
    idleTimeoutMs: setting('UPSTREAM_IDLE_TIMEOUT_MS', int(1, 3_600_000).default(60_000), 'longest gap between two chunks of a stream'),
    totalTimeoutMs: setting('UPSTREAM_TOTAL_TIMEOUT_MS', int(1, 86_400_000).default(600_000), 'longest total duration of one upstream call'),
    origin: setting('UPSTREAM_ORIGIN', origin.optional(), 'the `Origin` header the gateway sends Agent Studio (never the browser\'s): set it to one of the agent\'s approved domains when the agent has any, or every completion gets 403 (per agent: agents.<agentId>.upstreamOrigin)'),
    maxConnections: setting('UPSTREAM_MAX_CONNECTIONS', int(1, 1_000_000).default(16_384), 'upstream connection pool size (one open stream holds one connection)')
  }),
  session: z.object({
    cookieName: setting('SESSION_COOKIE_NAME', z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be a valid cookie name').default('session'), 'cookie that carries the session'),
    userIdClaim: setting('SESSION_USER_ID_CLAIM', z.string().min(1).default('sub'), 'session JWT claim holding the user id'),
    maxAgeSeconds: setting('SESSION_MAX_AGE_SECONDS', int(60, 31_536_000).default(2_592_000), 'a session JWT whose exp is further away than this is refused (no year-9999 tokens)'),
    tenantClaim: setting('SESSION_TENANT_CLAIM', z.string().min(1).optional(), 'session claim (or forward-auth answer field) holding the tenant: user ids become <tenant>:<user> everywhere; sessions without it get 401'),
    clockToleranceSeconds: setting('SESSION_CLOCK_TOLERANCE_SECONDS', int(0, 300).default(5), 'leeway for exp/nbf'),
    jwksCooldownSeconds: setting('SESSION_JWKS_COOLDOWN_SECONDS', int(0, 3600).default(30), 'least time between two JWKS fetches'),
    jwksCacheMaxAgeSeconds: setting('SESSION_JWKS_CACHE_MAX_AGE_SECONDS', int(0, 604_800).default(600), 'JWKS refresh interval (0: refetch on every verification)'),
    jwksTimeoutMs: setting('SESSION_JWKS_TIMEOUT_MS', int(1, 60_000).default(5000), 'JWKS fetch timeout'),
    introspectTimeoutMs: setting('SESSION_INTROSPECT_TIMEOUT_MS', int(1, 60_000).default(3000), 'forward-auth timeout'),
    introspectCacheSeconds: setting('SESSION_INTROSPECT_CACHE_SECONDS', int(0, 3600).default(30), 'how long a positive forward-auth answer is reused (0: never)'),
    introspectCacheMax: setting('SESSION_INTROSPECT_CACHE_MAX', int(1, 10_000_000).default(10_000), 'most cached forward-auth answers')
  }),
  userToken: z.object({
    ttlSeconds: setting('USER_TOKEN_TTL', int(60, 86_400).default(3600), 'lifetime of the minted X-Algolia-Secure-User-Token')
  }),
  tracing: z.object({
    enabled: setting('TRACING_ENABLED', bool.default(false), 'OpenTelemetry tracing (also on when OTEL_EXPORTER_OTLP_ENDPOINT is set)'),
    parentFrom: setting('TRACE_PARENT_FROM', z.enum(['trusted-proxies', 'none', 'any']).default('trusted-proxies'), 'whose incoming traceparent/tracestate continue a trace: trusted-proxies (a request whose TCP peer is in TRUSTED_PROXIES), none, or any (only behind a proxy that strips them from clients)'),
    sampleRatio: setting('TRACE_SAMPLE_RATIO', z.coerce.number().min(0).max(1).default(1), 'share of traces recorded, decided by the gateway from the trace id for every request (an incoming sampled flag never forces recording)')
  }),
  log: z.object({
    level: setting('LOG_LEVEL', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'), 'pino log level')
  })
})

/** What the settings resolve to: every value validated, defaults filled in. */
export type Settings = z.output<typeof settingsSchema>

export interface Setting {
  readonly path: readonly [section: string, key: string]
  readonly env: string
  readonly schema: z.ZodType
  readonly doc: string
}

/** The schema as a flat table, in order: the policy file's known keys, the README's rows. */
export const SETTINGS: readonly Setting[] = Object.entries(settingsSchema.shape).flatMap(([section, sectionSchema]) => {
  const keys: Readonly<Record<string, z.ZodType>> = sectionSchema.shape
  return Object.entries(keys).map(([key, schema]): Setting => {
    const info = settingInfo.get(schema)
    if (info === undefined) throw new Error(`${section}.${key}: declared without setting()`)
    return { path: [section, key], env: info.env, schema, doc: info.doc }
  })
})

/** Secrets and endpoints: environment only (each also as NAME_FILE), never in the config file. */
export const SECRET_VARIABLES = [
  'REDIS_URL',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
  'REDIS_TLS_KEY',
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
  'OTEL_SERVICE_NAME',
  // Redis's connection (src/config/redis.ts); the TLS material may also come from *_FILE.
  'REDIS_MODE',
  'REDIS_USERNAME',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_MASTER',
  'REDIS_SENTINEL_USERNAME',
  'REDIS_TLS',
  'REDIS_TLS_CA',
  'REDIS_TLS_CERT'
] as const
