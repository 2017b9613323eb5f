import { createPublicKey, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { ENVIRONMENT_ONLY_VARIABLES, SECRET_VARIABLES, SETTINGS } from './settings.js'
import type { ResolvedSettings } from './settings.js'
import { parseLimits } from './limits.js'
import type { LimitsConfig } from './limits.js'
import { isAddressOrCidr } from './addresses.js'
import { filterTemplateProblem } from './filter-template.js'
import type { GatewayConfig, SessionConfig, SessionKey, TracingConfig } from './types.js'

export type Environment = Readonly<Record<string, string | undefined>>

/** Raised once with every problem found, so an operator fixes them all in one go. */
export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

export interface LoadedConfig {
  readonly config: GatewayConfig
  /** Non-fatal findings, logged at start-up. */
  readonly warnings: readonly string[]
}

export const DEFAULT_CONFIG_FILE = 'config/gateway.yaml'
export const DEMO_AGENT_ID = 'demo-agent'

const SESSION_METHODS = ['SESSION_JWT_SECRET', 'SESSION_JWT_PUBLIC_KEY', 'SESSION_JWKS_URL', 'SESSION_INTROSPECT_URL'] as const
const REQUIRED_ALGOLIA = ['ALGOLIA_APP_ID', 'ALGOLIA_API_KEY', 'ALGOLIA_KEY_ID', 'ALGOLIA_SECRET_KEY'] as const
/** Setting any of these means "I am configuring a real deployment": the demo is then off. */
const DEPLOYMENT_VARIABLES = [...REQUIRED_ALGOLIA, ...SESSION_METHODS, 'AGENT_STUDIO_URL'] as const

/** The one place that reads process.env. */
export function loadConfigFromProcess(): LoadedConfig {
  return loadConfig(process.env)
}

export interface LoadOptions {
  /** The policy file read when GATEWAY_CONFIG_FILE is unset (if it exists); undefined: none. */
  readonly defaultConfigFile?: string | undefined
}

export function loadConfig(env: Environment, options: LoadOptions = { defaultConfigFile: DEFAULT_CONFIG_FILE }): LoadedConfig {
  const problems: string[] = []
  const warnings: string[] = []
  const read = environmentReader(env, problems)
  const production = env.NODE_ENV === 'production'

  const fallbackFile = options.defaultConfigFile
  const configFile = nonEmpty(env.GATEWAY_CONFIG_FILE) ?? (fallbackFile !== undefined && existsSync(fallbackFile) ? fallbackFile : undefined)
  const fileValues = configFile === undefined ? {} : readConfigFile(configFile, problems)
  const settings = resolveSettings(env, fileValues, configFile, problems)

  const configured = DEPLOYMENT_VARIABLES.filter((name) => read(name) !== undefined)
  const demo = configured.length === 0 && !production
  if (production && configured.length === 0) {
    problems.push(`NODE_ENV=production: the embedded demo is disabled; set ${[...REQUIRED_ALGOLIA, 'one of ' + SESSION_METHODS.join(' / ')].join(', ')}`)
  }

  const algolia = demo ? demoAlgolia() : realAlgolia(read, problems, production)
  const session = demo ? demoSession(settings) : resolveSession(read, settings, problems, warnings, production)

  // Issue 11: the parent of browser keys never defaults to ALGOLIA_API_KEY, which carries `logs`
  // when conversations are on (a Secured API Key derived from it read every user's conversations).
  if (algolia !== undefined && algolia.searchKey === undefined && settings.searchKey.enabled) {
    const message = 'ALGOLIA_SEARCH_KEY: not set, so POST /search-key is off (browser keys are never derived from ALGOLIA_API_KEY); set a search-only key, or ENABLE_SEARCH_KEY=false'
    if (production) problems.push(message)
    else warnings.push(message)
    settings.searchKey.enabled = false
  }
  const { server } = settings
  if (server.headersTimeoutMs > server.requestTimeoutMs) problems.push(`HEADERS_TIMEOUT_MS (${server.headersTimeoutMs}) must not exceed REQUEST_TIMEOUT_MS (${server.requestTimeoutMs}): the headers are part of the request`)
  const longestQuietUpstreamPhase = Math.max(settings.upstream.firstByteTimeoutMs, settings.upstream.idleTimeoutMs)
  if (server.connectionTimeoutMs <= longestQuietUpstreamPhase) {
    problems.push(`CONNECTION_TIMEOUT_MS (${server.connectionTimeoutMs}) must exceed UPSTREAM_FIRST_BYTE_TIMEOUT_MS and UPSTREAM_IDLE_TIMEOUT_MS (${longestQuietUpstreamPhase}): a browser waiting for a slow answer sends and receives nothing meanwhile`)
  }

  const allowedAgentIds = settings.policy.allowedAgentIds
  if (demo && allowedAgentIds.length === 0) allowedAgentIds.push(DEMO_AGENT_ID)
  if (!demo && allowedAgentIds.length === 0) {
    const message = 'ALLOWED_AGENT_IDS: no agent is allowed, so every completion will be refused with 403'
    if (production) problems.push(message)
    else warnings.push(message)
  }

  // Outside the demo, an empty list means only same-origin pages (served by the gateway or
  // through a same-origin reverse proxy) can use it: say so, since a browser's CORS refusal
  // is invisible on the server.
  if (!demo && settings.policy.allowedOrigins.length === 0) {
    warnings.push('ALLOWED_ORIGINS is empty: no other origin is allowed, so only pages served from the gateway\'s own origin (or through a same-origin reverse proxy) can call it; list your app\'s origin, e.g. ALLOWED_ORIGINS=https://app.example.com')
  }

  const limitsResult = parseLimits((fileValues as { limits?: unknown }).limits, `config file ${configFile}`)
  if ('problems' in limitsResult) problems.push(...limitsResult.problems)
  const templateProblem = filterTemplateProblem(settings.searchKey.filters)
  if (templateProblem !== undefined) problems.push(`SEARCH_KEY_FILTERS: ${templateProblem}`)
  const trustedProxies = settings.server.trustedProxies
  for (const entry of trustedProxies) {
    if (!isAddressOrCidr(entry)) problems.push(`TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR range`)
  }
  for (const entry of settings.server.metricsAllowFrom) {
    if (!isAddressOrCidr(entry)) problems.push(`METRICS_ALLOW_FROM: "${entry}" is not an IP address or CIDR range`)
  }
  const tracing = resolveTracing(read, settings, problems)
  if (problems.length > 0) throw new ConfigError(problems)

  const config: GatewayConfig = {
    production,
    demo,
    configFile,
    server: {
      host: server.host,
      port: server.port,
      shutdownGraceMs: server.shutdownGraceSeconds * 1000,
      maxEventLoopDelayMs: server.maxEventLoopDelayMs,
      maxConnections: server.maxConnections,
      headersTimeoutMs: server.headersTimeoutMs,
      requestTimeoutMs: server.requestTimeoutMs,
      keepAliveTimeoutMs: server.keepAliveTimeoutMs,
      connectionTimeoutMs: server.connectionTimeoutMs,
      trustedProxies,
      metrics: server.metrics,
      metricsAllowFrom: server.metricsAllowFrom,
      skipKeyAudit: server.skipKeyAudit
    },
    algolia: algolia!,
    userToken: { ttlSeconds: settings.userToken.ttlSeconds },
    searchKey: settings.searchKey,
    session: session!,
    policy: settings.policy,
    upstream: settings.upstream,
    log: { level: settings.log.level, pretty: demo },
    tracing,
    limits: (limitsResult as { limits: LimitsConfig }).limits,
    redis: { url: read('REDIS_URL'), namespace: server.redisNamespace ?? `asg:${algolia!.appId}:` }
  }
  return { config: deepFreeze(config), warnings }
}

/**
 * Tracing is on with TRACING_ENABLED or when an OTLP endpoint is given (the OpenTelemetry
 * convention); the endpoint is the collector's base URL, traces go to its /v1/traces.
 */
function resolveTracing(read: (name: string) => string | undefined, settings: Sections, problems: string[]): TracingConfig | undefined {
  const endpoint = read('OTEL_EXPORTER_OTLP_ENDPOINT')
  if (!settings.tracing.enabled && endpoint === undefined) return undefined
  let tracesUrl: URL
  try {
    tracesUrl = new URL('v1/traces', (endpoint ?? 'http://localhost:4318').replace(/\/?$/, '/'))
  } catch {
    problems.push('OTEL_EXPORTER_OTLP_ENDPOINT: not a URL (e.g. http://otel-collector:4318)')
    return undefined
  }
  return {
    tracesUrl,
    serviceName: read('OTEL_SERVICE_NAME') ?? 'agent-studio-gateway',
    parentOrigins: settings.tracing.parentOrigins ?? settings.policy.allowedOrigins,
    sampleRatio: settings.tracing.sampleRatio
  }
}

/** Reads NAME, or the file named by NAME_FILE (the Docker/Kubernetes secrets convention). */
function environmentReader(env: Environment, problems: string[]) {
  const cache = new Map<string, string | undefined>()
  return function read(name: string): string | undefined {
    if (cache.has(name)) return cache.get(name)
    const direct = nonEmpty(env[name])
    const filePath = nonEmpty(env[`${name}_FILE`])
    let value = direct
    if (direct !== undefined && filePath !== undefined) {
      problems.push(`${name} and ${name}_FILE are both set: keep one`)
    } else if (filePath !== undefined) {
      try {
        value = nonEmpty(readFileSync(filePath, 'utf8').replace(/\r?\n$/, ''))
        if (value === undefined) problems.push(`${name}_FILE: ${filePath} is empty`)
      } catch (error) {
        problems.push(`${name}_FILE: cannot read ${filePath} (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
      }
    }
    cache.set(name, value)
    return value
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}

function readConfigFile(path: string, problems: string[]): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'))
  } catch (error) {
    problems.push(`config file ${path}: ${(error as Error).message.split('\n')[0]}`)
    return {}
  }
  if (parsed === null || parsed === undefined) return {}
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(`config file ${path}: must be a mapping of sections (server, policy, upstream, session, userToken, log)`)
    return {}
  }
  const known = new Set(SETTINGS.map((s) => s.path.join('.')))
  for (const [section, values] of Object.entries(parsed)) {
    // The limits section has its own strict schema (src/config/limits.ts).
    if (section === 'limits') continue
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      problems.push(`config file ${path}: "${section}" must be a mapping`)
      continue
    }
    for (const key of Object.keys(values)) {
      if (!known.has(`${section}.${key}`)) problems.push(`config file ${path}: "${section}.${key}" is not a known setting`)
    }
  }
  const secretsInFile = [...SECRET_VARIABLES, ...ENVIRONMENT_ONLY_VARIABLES].filter((name) => name in parsed)
  for (const name of secretsInFile) problems.push(`config file ${path}: ${name} belongs in the environment, not the policy file`)
  return parsed as Record<string, unknown>
}

type Sections = ResolvedSettings

function resolveSettings(env: Environment, file: Record<string, unknown>, configFile: string | undefined, problems: string[]): Sections {
  const sections: Record<string, Record<string, unknown>> = {}
  for (const setting of SETTINGS) {
    const [section, key] = setting.path
    const fromEnv = nonEmpty(env[setting.env])
    const fileSection = file[section] as Record<string, unknown> | undefined
    const raw = fromEnv ?? fileSection?.[key]
    const result = setting.schema.safeParse(raw)
    const target = (sections[section] ??= {})
    if (result.success) {
      target[key] = result.data
    } else {
      const source = fromEnv !== undefined ? setting.env : `config file ${configFile} ${section}.${key} (or ${setting.env})`
      problems.push(`${source}: ${result.error.issues.map((issue) => issue.message).join('; ')}`)
      // Keep going with the default, so later checks still run and every problem is reported.
      target[key] = setting.schema.safeParse(undefined).data
    }
  }
  return sections as unknown as Sections
}

function realAlgolia(read: (name: string) => string | undefined, problems: string[], production: boolean) {
  const missing = REQUIRED_ALGOLIA.filter((name) => read(name) === undefined)
  for (const name of missing) problems.push(`${name}: required${production ? ' (NODE_ENV=production)' : ''}`)
  const appId = read('ALGOLIA_APP_ID')
  if (appId !== undefined && !/^[A-Za-z0-9]{1,32}$/.test(appId)) problems.push('ALGOLIA_APP_ID: letters and digits only, as shown in the Algolia dashboard')
  const explicitUrl = read('AGENT_STUDIO_URL')
  let agentStudioUrl: URL | undefined
  if (explicitUrl !== undefined) {
    agentStudioUrl = parseHttpUrl(explicitUrl, 'AGENT_STUDIO_URL', problems, production)
  } else if (appId !== undefined) {
    agentStudioUrl = new URL(`https://${appId.toLowerCase()}.algolia.net/agent-studio`)
  }
  // Values such as the compose demo's must never run a production gateway by accident.
  if (production) {
    for (const name of [...REQUIRED_ALGOLIA, 'ALGOLIA_SEARCH_KEY']) {
      if (/(^|[-_])demo[-_]/i.test(read(name) ?? '')) problems.push(`${name}: looks like a demo value; not allowed under NODE_ENV=production`)
    }
  }
  // The key audit asks the Search API. Agent Studio's own host (https://APPID.algolia.net) is
  // also a Search API host, so by default the audit asks wherever Agent Studio is.
  const searchApiUrl = read('ALGOLIA_SEARCH_API_URL') === undefined
    ? agentStudioUrl
    : parseHttpUrl(read('ALGOLIA_SEARCH_API_URL')!, 'ALGOLIA_SEARCH_API_URL', problems, production)
  if (missing.length > 0 || agentStudioUrl === undefined || searchApiUrl === undefined) return undefined
  return {
    appId: appId!,
    apiKey: read('ALGOLIA_API_KEY')!,
    searchKey: read('ALGOLIA_SEARCH_KEY'),
    searchApiUrl: new URL(searchApiUrl.origin),
    keyId: read('ALGOLIA_KEY_ID')!,
    secretKey: read('ALGOLIA_SECRET_KEY')!,
    agentStudioUrl: withoutTrailingSlash(agentStudioUrl)
  }
}

function resolveSession(read: (name: string) => string | undefined, settings: Sections, problems: string[], warnings: string[], production: boolean): SessionConfig | undefined {
  const chosen = SESSION_METHODS.filter((name) => read(name) !== undefined)
  if (chosen.length === 0) {
    problems.push(`session: set one of ${SESSION_METHODS.join(', ')}${production ? ' (NODE_ENV=production)' : ''}`)
    return undefined
  }
  if (chosen.length > 1) {
    problems.push(`session: set only one of ${SESSION_METHODS.join(', ')} (found ${chosen.join(', ')})`)
    return undefined
  }
  const s = settings.session
  const method = chosen[0]!
  if (method === 'SESSION_INTROSPECT_URL') {
    const url = parseHttpUrl(read(method)!, method, problems, production)
    if (url === undefined) return undefined
    return {
      kind: 'introspect',
      url,
      timeoutMs: s.introspectTimeoutMs,
      cacheTtlMs: s.introspectCacheSeconds * 1000,
      cacheMax: s.introspectCacheMax,
      cookieName: s.cookieName,
      tenantClaim: s.tenantClaim
    }
  }
  const key = sessionKey(method, read(method)!, s, problems, production)
  if (key === undefined) return undefined
  // Issue 11: an identity provider signs tokens for many APIs and clients with the same keys;
  // without audience and issuer, a token it issued for another one is accepted here. (A shared
  // secret is this app's alone, so it is exempt.)
  if (key.type !== 'secret') {
    for (const name of ['SESSION_JWT_ISSUER', 'SESSION_JWT_AUDIENCE']) {
      if (read(name) !== undefined) continue
      const message = `${name}: required with ${method}, or a token the identity provider issued for another API or client is accepted`
      if (production) problems.push(`${message} (NODE_ENV=production)`)
      else warnings.push(`${message} (refused under NODE_ENV=production)`)
    }
  }
  return {
    kind: 'jwt',
    key,
    issuer: read('SESSION_JWT_ISSUER'),
    audience: read('SESSION_JWT_AUDIENCE'),
    userIdClaim: s.userIdClaim,
    maxAgeSeconds: s.maxAgeSeconds,
    clockToleranceSeconds: s.clockToleranceSeconds,
    cookieName: s.cookieName,
    tenantClaim: s.tenantClaim
  }
}

function sessionKey(method: string, value: string, s: Sections['session'], problems: string[], production: boolean): SessionKey | undefined {
  if (method === 'SESSION_JWT_SECRET') {
    const secret = new TextEncoder().encode(value)
    // RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
    if (secret.length < 32 && production) problems.push('SESSION_JWT_SECRET: use at least 32 bytes (RFC 7518 §3.2)')
    return { type: 'secret', secret }
  }
  if (method === 'SESSION_JWT_PUBLIC_KEY') {
    // Environment variables often carry PEM with literal "\n" sequences.
    const pem = value.includes('\\n') ? value.replace(/\\n/g, '\n') : value
    try {
      const key = createPublicKey(pem)
      if (key.type !== 'public') throw new Error('not public')
    } catch {
      problems.push('SESSION_JWT_PUBLIC_KEY: not a PEM-encoded public key (-----BEGIN PUBLIC KEY-----)')
      return undefined
    }
    return { type: 'public-key', pem }
  }
  const url = parseHttpUrl(value, method, problems, production)
  if (url === undefined) return undefined
  return {
    type: 'jwks',
    url,
    cooldownMs: s.jwksCooldownSeconds * 1000,
    cacheMaxAgeMs: s.jwksCacheMaxAgeSeconds * 1000,
    timeoutMs: s.jwksTimeoutMs
  }
}

function parseHttpUrl(value: string, name: string, problems: string[], production: boolean): URL | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    problems.push(`${name}: not a URL`)
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(`${name}: must be an http(s) URL`)
    return undefined
  }
  // Credentials in the userinfo would be printed at start and never sent (requests use the
  // origin alone): refuse them rather than leak them. The message does not repeat them.
  if (url.username !== '' || url.password !== '') {
    problems.push(`${name}: must not carry credentials (user:password@); the gateway never sends them, and they would be logged`)
    return undefined
  }
  if (production && url.protocol !== 'https:' && !isLoopback(url.hostname)) {
    problems.push(`${name}: must use https under NODE_ENV=production`)
    return undefined
  }
  return url
}

/**
 * Re-reads only the `limits:` section of the policy file, for a live reload (SIGHUP). The
 * caller keeps the limits in force when this returns problems.
 */
export function reloadLimits(configFile: string | undefined): { limits: LimitsConfig } | { problems: string[] } {
  if (configFile === undefined) return { problems: ['no policy file was loaded at start (set GATEWAY_CONFIG_FILE or ship config/gateway.yaml): nothing to reload'] }
  const problems: string[] = []
  const values = readConfigFile(configFile, problems)
  if (problems.length > 0) return { problems }
  return parseLimits((values as { limits?: unknown }).limits, `config file ${configFile}`)
}

export interface ReloadedSecrets {
  readonly apiKey: string
  readonly searchKey: string | undefined
  readonly signingKey: { readonly keyId: string; readonly secret: string }
}

/**
 * Re-reads the Algolia secrets (SIGHUP): from the files named by `*_FILE` when they are used
 * (the Docker/Kubernetes secrets convention: a mounted file changes, the process does not).
 */
export function reloadSecretsFromProcess(options: { requireSearchKey: boolean }): { secrets: ReloadedSecrets } | { problems: string[] } {
  return reloadSecrets(process.env, options)
}

/** `requireSearchKey`: POST /search-key is served, so its parent cannot go away (it never falls back to the API key). */
export function reloadSecrets(env: Environment, options: { requireSearchKey: boolean } = { requireSearchKey: false }): { secrets: ReloadedSecrets } | { problems: string[] } {
  const problems: string[] = []
  const read = environmentReader(env, problems)
  const required = options.requireSearchKey ? [...REQUIRED_ALGOLIA, 'ALGOLIA_SEARCH_KEY'] : REQUIRED_ALGOLIA
  const missing = required.filter((name) => name !== 'ALGOLIA_APP_ID' && read(name) === undefined)
  for (const name of missing) problems.push(`${name}: required`)
  if (problems.length > 0) return { problems }
  return {
    secrets: {
      apiKey: read('ALGOLIA_API_KEY')!,
      searchKey: read('ALGOLIA_SEARCH_KEY'),
      signingKey: { keyId: read('ALGOLIA_KEY_ID')!, secret: read('ALGOLIA_SECRET_KEY')! }
    }
  }
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname.startsWith('127.')
}

function withoutTrailingSlash(url: URL): URL {
  const copy = new URL(url.href)
  copy.pathname = copy.pathname.replace(/\/+$/, '')
  copy.search = ''
  copy.hash = ''
  return copy
}

/** Demo credentials are generated per start, so nothing about them can leak or be reused. */
function demoAlgolia() {
  return {
    appId: 'DEMOAPP',
    apiKey: `demo-agent-key-${randomBytes(12).toString('hex')}`,
    // A search-only parent for the browser's secured keys, as the key audit wants.
    searchKey: `demo-search-only-key-${randomBytes(12).toString('hex')}`,
    searchApiUrl: new URL('http://127.0.0.1:9'),
    keyId: 'demo-key-1',
    secretKey: `sk-alg-demo-${randomBytes(24).toString('hex')}`,
    // Replaced by the address of the embedded stand-in once it listens.
    agentStudioUrl: new URL('http://127.0.0.1:9/agent-studio')
  }
}

function demoSession(settings: Sections): SessionConfig {
  const s = settings.session
  return {
    kind: 'jwt',
    key: { type: 'secret', secret: randomBytes(32) },
    issuer: 'agent-studio-gateway-demo',
    audience: undefined,
    userIdClaim: 'sub',
    maxAgeSeconds: s.maxAgeSeconds,
    clockToleranceSeconds: s.clockToleranceSeconds,
    cookieName: s.cookieName,
    tenantClaim: s.tenantClaim
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !(value instanceof URL) && !ArrayBuffer.isView(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
