import { z } from 'zod'
import { AGENT_ID_PATTERN } from './ids.js'

export const COMPATIBILITY_MODES = ['ai-sdk-4', 'ai-sdk-5', 'ag-ui'] as const
export type CompatibilityMode = (typeof COMPATIBILITY_MODES)[number]

/**
 * Every tunable (non-secret) setting, once: its section and key in the policy file, the
 * environment variable that overrides it, how it is validated, and what it does. The settings' type
 * is this schema's output, and the tables of docs/configuration.md are generated from it
 * (scripts/config-reference.ts, `npm run docs:config`): there is no second copy.
 */

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max)
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1')])
const list = <T extends z.ZodType>(item: T) => z.preprocess((value) => (typeof value === 'string' ? splitList(value) : value), z.array(item))

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
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
const headerName = z
  .string()
  .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/, 'header names only, e.g. content-type')
  .transform((name) => name.toLowerCase())

interface SettingInfo {
  /** The environment variable that overrides the file's value. */
  readonly env: string
  /** What it does, in Markdown: its cell in docs/configuration.md (links relative to docs/). */
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
    maxEventLoopDelayMs: setting('MAX_EVENT_LOOP_DELAY_MS', int(0, 60_000).default(1000), 'above it, new API requests get `503 overloaded` (`0`: off)'),
    maxConnections: setting(
      'MAX_CONNECTIONS',
      int(0, 1_000_000).default(0),
      'client connections open at once; more are closed as soon as they are accepted. `0`: derived at start from the descriptor limit (`ulimit -n`), (limit − 64) / 2, e.g. 480 for 1,024 (see [Hostile clients](operations.md#hostile-clients-connection-cap-and-timeouts))'
    ),
    adminPort: setting(
      'ADMIN_PORT',
      int(0, 65535).default(0),
      'a second listener for `/healthz`, `/readyz` and `/metrics` only, off the public listener and its connection cap, for probes and scrapers (`0`: none; they stay on the public listener)'
    ),
    adminHost: setting(
      'ADMIN_HOST',
      z.string().min(1).default('127.0.0.1'),
      'address of the admin listener (Kubernetes: `0.0.0.0`, with a NetworkPolicy); on it `/metrics` is served to any peer that can connect'
    ),
    adminRoutesOnPublic: setting(
      'ADMIN_ROUTES_ON_PUBLIC',
      bool.default(false),
      'with `ADMIN_PORT`, also serve `/healthz`, `/readyz` and `/metrics` on the public listener (compatibility)'
    ),
    maxConnectionsPerAddress: setting(
      'MAX_CONNECTIONS_PER_ADDRESS',
      int(0, 1_000_000).default(0),
      'client connections one address (an IPv6 client: its /64) may hold open; more are closed on accept; `TRUSTED_PROXIES` are exempt. `0`: a twentieth of the connection cap, at least 16 (see [Hostile clients](operations.md#hostile-clients-connection-cap-and-timeouts))'
    ),
    headersTimeoutMs: setting(
      'HEADERS_TIMEOUT_MS',
      int(1000, 600_000).default(10_000),
      'the request line and headers must arrive within this (`408` and closed)'
    ),
    requestTimeoutMs: setting(
      'REQUEST_TIMEOUT_MS',
      int(1000, 3_600_000).default(30_000),
      'the whole request, body included, must arrive within this (`408` and closed); at least `HEADERS_TIMEOUT_MS`'
    ),
    keepAliveTimeoutMs: setting(
      'KEEP_ALIVE_TIMEOUT_MS',
      int(1000, 3_600_000).default(72_000),
      "an idle kept-alive connection is closed after this; keep it above your load balancer's idle timeout (60 s on AWS ALB) so the balancer closes first"
    ),
    connectionTimeoutMs: setting(
      'CONNECTION_TIMEOUT_MS',
      int(1000, 86_400_000).default(120_000),
      'a connection with no byte in either direction for this long is closed; must exceed `UPSTREAM_FIRST_BYTE_TIMEOUT_MS` and `UPSTREAM_IDLE_TIMEOUT_MS` (a browser waiting for a slow answer is silent meanwhile)'
    ),
    trustedProxies: setting(
      'TRUSTED_PROXIES',
      list(z.string().min(1)).default([]),
      'IPs/CIDRs of your load balancers; only their `X-Forwarded-For` is believed (none: the socket address is the client; see [Client IP and trusted proxies](operations.md#client-ip-and-trusted-proxies))'
    ),
    metrics: setting('METRICS_ENABLED', bool.default(true), 'Prometheus metrics at `/metrics` ([catalogue](metrics.md))'),
    metricsAllowFrom: setting(
      'METRICS_ALLOW_FROM',
      list(z.string().min(1)).default([]),
      'IPs/CIDRs (the client address: the TCP peer unless it is a trusted proxy) allowed to scrape `/metrics` besides loopback and `limits.allowList` (e.g. your Prometheus)'
    ),
    redisNamespace: setting(
      'REDIS_NAMESPACE',
      z
        .string()
        .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and : _ . - only')
        .optional(),
      'prefix of every Redis key (unset: `asg:<app id>:`), as a cluster hash tag (`{asg:<app id>:}…`), so gateways of different apps can share one Redis'
    ),
    policyReloadIntervalSeconds: setting(
      'POLICY_RELOAD_INTERVAL_SECONDS',
      int(0, 3600).default(5),
      "how often the policy file's content is checked; a change (a Kubernetes ConfigMap update included) is applied without a restart, an invalid one logged once and ignored; `0`: on `SIGHUP` only (see [Changing limits live](operations.md#changing-limits-live))"
    ),
    skipKeyAudit: setting('SKIP_KEY_AUDIT', bool.default(false), "start without asking Algolia for the keys' ACLs (air-gapped starts only; logged loudly)")
  }),
  searchKey: z.object({
    enabled: setting('ENABLE_SEARCH_KEY', bool.default(true), 'serve `POST /search-key` (per-user Secured API Keys for InstantSearch); off: `404`'),
    ttlSeconds: setting('SEARCH_KEY_TTL', int(60, 86_400).default(3600), '`validUntil` of each Secured API Key = now + this'),
    indices: setting(
      'SEARCH_KEY_INDICES',
      list(z.string().regex(/^[^\s,]{1,256}$/, 'index names or patterns, without spaces or commas')).default([]),
      "`restrictIndices` of each Secured API Key (index names or patterns; none: the parent key's indices)"
    ),
    filters: setting(
      'SEARCH_KEY_FILTERS',
      z.string().max(1024).default(''),
      '`filters` template from session claims, e.g. `tenant_id:{tenant}`; write placeholders unquoted, the gateway quotes each value'
    ),
    agentTenantIsolation: setting(
      'AGENT_TENANT_ISOLATION',
      bool.default(false),
      'send Agent Studio a per-user Secured API Key (same filters, indices, validity) instead of `ALGOLIA_API_KEY`'
    )
  }),
  policy: z.object({
    allowedAgentIds: setting('ALLOWED_AGENT_IDS', list(agentId).default([]), 'the agents the browser may reach; any other agent gets `403`'),
    allowedOrigins: setting('ALLOWED_ORIGINS', list(origin).default([]), '`scheme://host[:port]` origins: CORS with credentials and the CSRF check'),
    corsAllowedHeaders: setting(
      'CORS_ALLOWED_HEADERS',
      list(headerName).default(['content-type', 'authorization', 'traceparent', 'tracestate', 'x-algolia-referer']),
      "request headers a cross-origin page may send (the preflight's `access-control-allow-headers`); whatever CORS allows, only `accept`, `accept-language`, `user-agent` and a validated `x-algolia-referer` (InstantSearch's AI-mode entry points) are ever forwarded upstream"
    ),
    compatibilityModes: setting(
      'COMPATIBILITY_MODES',
      list(z.enum(COMPATIBILITY_MODES))
        .pipe(z.array(z.enum(COMPATIBILITY_MODES)).min(1, 'allow at least one mode'))
        .default(['ai-sdk-4', 'ai-sdk-5']),
      "the `compatibilityMode` values the browser may ask for; add `ag-ui` to serve AG-UI clients (off unless listed: Algolia's published spec has only the AI SDK modes; see [AG-UI](frontend.md#ag-ui-off-by-default))"
    ),
    upstreamCache: setting('UPSTREAM_CACHE', bool.default(true), '`cache` sent upstream (`false`: answers are never cached)'),
    upstreamCachePolicy: setting(
      'UPSTREAM_CACHE_POLICY',
      z.enum(['browser-may-bypass', 'pinned']).default('browser-may-bypass'),
      '`browser-may-bypass`: a browser\'s `cache=false` or `trigger: "regenerate-message"` gets a fresh answer (`cache=false` upstream); `pinned`: always `UPSTREAM_CACHE`'
    ),
    upstreamAnalytics: setting('UPSTREAM_ANALYTICS', bool.default(true), '`analytics` sent upstream'),
    allowConfiguration: setting('ALLOW_CONFIGURATION', bool.default(false), "let the browser send `configuration` (it replaces the agent's prompt and tools)"),
    allowMcpServers: setting('ALLOW_MCP_SERVERS', bool.default(false), 'let the browser send `algolia.mcpServers`'),
    allowSearchParameters: setting('ALLOW_SEARCH_PARAMETERS', bool.default(false), 'let the browser send `algolia.searchParameters`'),
    allowIndices: setting('ALLOW_INDICES', bool.default(false), 'let the browser send `algolia.indices`'),
    allowToolApprovals: setting('ALLOW_TOOL_APPROVALS', bool.default(true), 'let the browser send `toolApprovals`'),
    allowSystemMessages: setting('ALLOW_SYSTEM_MESSAGES', bool.default(false), 'let the browser send messages with role `system`'),
    enableConversations: setting('ENABLE_CONVERSATIONS', bool.default(true), 'conversation list/read/delete routes (API key needs `logs`); off: `404`'),
    enableFeedback: setting('ENABLE_FEEDBACK', bool.default(true), '`POST /agent-studio/1/feedback`; off: `404`'),
    enableUserData: setting('ENABLE_USER_DATA', bool.default(true), "export/erasure of the caller's own data (API key needs `logs`); off: `404`"),
    maxMessages: setting(
      'MAX_MESSAGES',
      int(1, 10_000).default(500),
      'most messages per completion (`400` above, naming the limit; a 200-message chat uses 200); see [Long chats](operations.md#long-chats)'
    ),
    bodyLimitBytes: setting(
      'BODY_LIMIT_BYTES',
      int(1024, 64 * 1024 * 1024).default(2 * 1024 * 1024),
      'largest body (`413` above, naming the limit; a 200-message chat with search results is about 1 MiB); see [Long chats](operations.md#long-chats)'
    ),
    taskBodyLimitBytes: setting(
      'TASK_BODY_LIMIT_BYTES',
      int(1024, 16 * 1024 * 1024).default(64 * 1024),
      'largest body of `POST …/tasks` (its free-form `input`; `413` above, naming the limit)'
    ),
    contextTrim: setting(
      'CONTEXT_TRIM',
      bool.default(false),
      "a completion over `MAX_MESSAGES` or `BODY_LIMIT_BYTES` is first shortened by Agent Studio's `context/trim` (no LLM call) instead of refused: one extra upstream call, counted in the upstream budget and the user's limit ([docs](agent-studio-features.md#long-chats))"
    ),
    contextTrimBodyLimitBytes: setting(
      'CONTEXT_TRIM_BODY_LIMIT_BYTES',
      int(1024, 64 * 1024 * 1024).default(8 * 1024 * 1024),
      'with `CONTEXT_TRIM`: the largest completion body read at all (`413` above); between `BODY_LIMIT_BYTES` and this it is trimmed (tool parts dropped)'
    ),
    compactProviderId: setting(
      'COMPACT_PROVIDER_ID',
      z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,128}$/, 'a provider id from the Agent Studio dashboard')
        .optional(),
      'with `COMPACT_MODEL`: serve `POST /agent-studio/1/context/compact`, summarised by this provider, billed to the application; the browser can never choose provider or model'
    ),
    compactModel: setting(
      'COMPACT_MODEL',
      z
        .string()
        .regex(/^[A-Za-z0-9_.:\/-]{1,128}$/, 'a model name, e.g. gpt-4o-mini')
        .optional(),
      "the model that summarises (with `COMPACT_PROVIDER_ID`); each user's daily allowance is `limits.routes.compact` (5 a day)"
    ),
    allowCookieRequestsWithoutOrigin: setting(
      'ALLOW_COOKIE_REQUESTS_WITHOUT_ORIGIN',
      bool.default(true),
      'accept cookie sessions on requests with no `Origin` and no `Sec-Fetch-Site` (non-browser callers); see [CORS and CSRF](security.md#cors-and-csrf)'
    )
  }),
  upstream: z.object({
    connectTimeoutMs: setting('UPSTREAM_CONNECT_TIMEOUT_MS', int(1, 600_000).default(5000), 'connect timeout to Agent Studio (`504`)'),
    firstByteTimeoutMs: setting('UPSTREAM_FIRST_BYTE_TIMEOUT_MS', int(1, 3_600_000).default(30_000), "until the answer's headers (`504`)"),
    idleTimeoutMs: setting(
      'UPSTREAM_IDLE_TIMEOUT_MS',
      int(1, 3_600_000).default(60_000),
      'longest gap between two chunks of a stream (the stream is ended with an error event)'
    ),
    totalTimeoutMs: setting('UPSTREAM_TOTAL_TIMEOUT_MS', int(1, 86_400_000).default(600_000), 'longest whole upstream call'),
    origin: setting(
      'UPSTREAM_ORIGIN',
      origin.optional(),
      "the `Origin` the gateway sends Agent Studio (never the browser's): one of the agent's approved domains when it has any, or every completion gets 403 (`502 upstream_auth_failed`); per agent: `agents.<agentId>.upstreamOrigin` ([docs](agent-studio-features.md#approved-domains)); `doctor` detects the 403"
    ),
    maxConnections: setting(
      'UPSTREAM_MAX_CONNECTIONS',
      int(1, 1_000_000).default(16_384),
      "upstream pool size: one open stream holds one connection (undici's and reply-from's default of 128 would make stream 129 wait)"
    )
  }),
  session: z.object({
    cookieName: setting(
      'SESSION_COOKIE_NAME',
      z
        .string()
        .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be a valid cookie name')
        .default('session'),
      "cookie carrying the session (prefer `__Host-session` when the gateway is served on the app's own host: [CORS and CSRF](security.md#cors-and-csrf))"
    ),
    userIdClaim: setting('SESSION_USER_ID_CLAIM', z.string().min(1).default('sub'), 'session JWT claim holding the user id'),
    maxAgeSeconds: setting(
      'SESSION_MAX_AGE_SECONDS',
      int(60, 31_536_000).default(2_592_000),
      'a session JWT whose `exp` lies further ahead than this is refused (`401 session_invalid`): no token valid until the year 9999'
    ),
    tenantClaim: setting(
      'SESSION_TENANT_CLAIM',
      z.string().min(1).optional(),
      'session claim (or forward-auth answer field) holding the tenant: user ids become `<tenant>:<user>` everywhere; sessions without it get `401`'
    ),
    clockToleranceSeconds: setting('SESSION_CLOCK_TOLERANCE_SECONDS', int(0, 300).default(5), 'leeway for `exp`/`nbf`'),
    jwksCooldownSeconds: setting('SESSION_JWKS_COOLDOWN_SECONDS', int(0, 3600).default(30), 'least time between two JWKS fetches'),
    jwksCacheMaxAgeSeconds: setting(
      'SESSION_JWKS_CACHE_MAX_AGE_SECONDS',
      int(0, 604_800).default(600),
      'JWKS refresh interval (`0`: refetch on every verification)'
    ),
    jwksTimeoutMs: setting('SESSION_JWKS_TIMEOUT_MS', int(1, 60_000).default(5000), 'JWKS fetch timeout'),
    introspectTimeoutMs: setting('SESSION_INTROSPECT_TIMEOUT_MS', int(1, 60_000).default(3000), 'forward-auth timeout'),
    introspectCacheSeconds: setting(
      'SESSION_INTROSPECT_CACHE_SECONDS',
      int(0, 3600).default(30),
      'reuse of a positive forward-auth answer, keyed by a hash of the credential (`0`: none)'
    ),
    introspectCacheMax: setting('SESSION_INTROSPECT_CACHE_MAX', int(1, 10_000_000).default(10_000), 'most cached forward-auth answers')
  }),
  userToken: z.object({
    ttlSeconds: setting('USER_TOKEN_TTL', int(60, 86_400).default(3600), 'lifetime of the minted user token (`X-Algolia-Secure-User-Token`)')
  }),
  tracing: z.object({
    enabled: setting(
      'TRACING_ENABLED',
      bool.default(false),
      'OpenTelemetry tracing; also on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (see [Tracing](operations.md#tracing))'
    ),
    parentFrom: setting(
      'TRACE_PARENT_FROM',
      z.enum(['trusted-proxies', 'none', 'any']).default('trusted-proxies'),
      'whose incoming `traceparent`/`tracestate` continue a trace: `trusted-proxies` (a request whose TCP peer is in `TRUSTED_PROXIES`), `none`, or `any` (only behind a proxy that strips them from clients). `TRACE_PARENT_ORIGINS` is gone: setting it stops the start with a pointer to this setting'
    ),
    sampleRatio: setting(
      'TRACE_SAMPLE_RATIO',
      z.coerce.number().min(0).max(1).default(1),
      'share of traces recorded, decided by the gateway from the trace id for every request (an incoming sampled flag never forces recording)'
    )
  }),
  log: z.object({
    level: setting(
      'LOG_LEVEL',
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      'pino level (every line and field: [logging.md](logging.md))'
    )
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

/** The schema as a flat table, in order: the policy file's known keys, the configuration reference's rows. */
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
