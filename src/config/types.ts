import type { LimitsConfig } from './limits.js'
import type { AgentsConfig } from './agents.js'
import type { AuditConfig } from './audit.js'
import type { Frozen } from './frozen.js'
import type { Settings } from './settings.js'

/**
 * The validated, frozen configuration every other module receives as an argument. Where a part
 * is a group of settings as they are, its type is the settings schema's output (settings.ts);
 * only what start-up resolves (URLs parsed, keys imported, seconds made milliseconds) is
 * written out here.
 */

export type { LimitsConfig }
export type { AgentsConfig }

// The modes are part of the settings schema; re-exported here with the other config types.
export { COMPATIBILITY_MODES } from './settings.js'
export type { CompatibilityMode } from './settings.js'

export type { Frozen } from './frozen.js'

type SessionSettings = Settings['session']

export type SessionKey =
  | { readonly type: 'secret'; readonly secret: Uint8Array }
  | { readonly type: 'public-key'; readonly pem: string }
  | { readonly type: 'jwks'; readonly url: URL; readonly cooldownMs: number; readonly cacheMaxAgeMs: number; readonly timeoutMs: number }

/**
 * `maxAgeSeconds`: a token whose exp lies further ahead is refused. `tenantClaim`: the user id
 * becomes `<tenant>:<user>`.
 */
export interface JwtSessionConfig extends Frozen<
  Pick<SessionSettings, 'userIdClaim' | 'maxAgeSeconds' | 'clockToleranceSeconds' | 'cookieName' | 'tenantClaim'>
> {
  readonly kind: 'jwt'
  readonly key: SessionKey
  readonly issuer: string | undefined
  readonly audience: string | undefined
}

/** `tenantClaim`: a field of the session endpoint's answer; the user id becomes `<tenant>:<user>`. */
export interface IntrospectSessionConfig extends Frozen<Pick<SessionSettings, 'cookieName' | 'tenantClaim'>> {
  readonly kind: 'introspect'
  readonly url: URL
  readonly timeoutMs: number
  readonly cacheTtlMs: number
  readonly cacheMax: number
}

export type SessionConfig = JwtSessionConfig | IntrospectSessionConfig

/** From the environment only (secrets and endpoints), so not part of the settings schema. */
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

/** `filters`: the template, e.g. `tenant_id:{tenant}`; '' for none (src/keys/filter-template.ts). */
export type SearchKeyConfig = Frozen<Settings['searchKey']>

/** `upstreamCachePolicy`: see policy/upstream-cache.ts. `corsAllowedHeaders`: lower case; upstream still gets only the header boundary's. */
export type PolicyConfig = Frozen<Settings['policy']>

export type UpstreamConfig = Frozen<Settings['upstream']>

/** The server settings, with the grace period in milliseconds; the Redis namespace moves to RedisConfig. */
export type ServerConfig = Frozen<Omit<Settings['server'], 'shutdownGraceSeconds' | 'redisNamespace'> & { shutdownGraceMs: number }>

/** OpenTelemetry tracing: absent (undefined) when off, so nothing of it is loaded or run. */
export interface TracingConfig extends Frozen<Pick<Settings['tracing'], 'sampleRatio'>> {
  /** OTLP/HTTP traces URL (OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces). */
  readonly tracesUrl: URL
  readonly serviceName: string
  /** Whose incoming trace context is continued (TRACE_PARENT_FROM); anyone else starts a new trace. */
  readonly parentFrom: Settings['tracing']['parentFrom']
  /** TRUSTED_PROXIES: with parentFrom `trusted-proxies`, the TCP peers whose trace context is continued. */
  readonly trustedProxies: readonly string[]
}

// Redis's connection has its own file (REDIS_URL, Sentinel, TLS, ACL user).
export type { RedisConfig, RedisConnection, RedisMode } from './redis.js'
import type { RedisConfig } from './redis.js'

export interface GatewayConfig {
  readonly production: boolean
  readonly server: ServerConfig
  readonly algolia: AlgoliaConfig
  readonly userToken: Frozen<Settings['userToken']>
  readonly searchKey: SearchKeyConfig
  readonly session: SessionConfig
  readonly policy: PolicyConfig
  readonly upstream: UpstreamConfig
  readonly log: Frozen<Settings['log']>
  readonly tracing: TracingConfig | undefined
  /** Live-tunable: replaced on SIGHUP reload. */
  readonly limits: LimitsConfig
  /** Per-agent settings (the policy file's `agents:`), live-tunable with the limits. */
  readonly agents: AgentsConfig
  /** Where the audit trail goes (the policy file's `audit:`; issue 24). */
  readonly audit: AuditConfig
  readonly redis: RedisConfig
  /** Where the policy file was read from, if any (for the start-up log). */
  readonly configFile: string | undefined
}
