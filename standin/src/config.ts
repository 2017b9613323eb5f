type Environment = Readonly<Record<string, string | undefined>>

/** Settings of the stand-alone Agent Studio stand-in (compose demo, image check). */
export interface StandInConfig {
  readonly host: string
  readonly port: number
  readonly appId: string
  readonly apiKey: string
  /** A search-only key (the parent of browser search keys), when the gateway uses one. */
  readonly searchKey: string | undefined
  readonly keyId: string
  readonly secretKey: string
  readonly agents: readonly string[] | undefined
  readonly paceMs: number
}

export function loadStandInConfig(env: Environment = process.env): StandInConfig {
  const { ALGOLIA_APP_ID: appId, ALGOLIA_API_KEY: apiKey, ALGOLIA_KEY_ID: keyId, ALGOLIA_SECRET_KEY: secretKey } = env
  if (!appId || !apiKey || !keyId || !secretKey) {
    const missing = ['ALGOLIA_APP_ID', 'ALGOLIA_API_KEY', 'ALGOLIA_KEY_ID', 'ALGOLIA_SECRET_KEY'].filter((name) => !env[name])
    throw new Error(`stand-in: set ${missing.join(', ')} (the same values the gateway uses)`)
  }
  const port = Number(env.STANDIN_PORT ?? 4000)
  const paceMs = Number(env.STANDIN_PACE_MS ?? 40)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('stand-in: STANDIN_PORT must be a port number')
  if (!Number.isInteger(paceMs) || paceMs < 0) throw new Error('stand-in: STANDIN_PACE_MS must be a whole number of milliseconds')
  return {
    host: env.STANDIN_HOST ?? '127.0.0.1',
    port,
    appId,
    apiKey,
    searchKey: env.ALGOLIA_SEARCH_KEY || undefined,
    keyId,
    secretKey,
    agents: env.ALLOWED_AGENT_IDS ? env.ALLOWED_AGENT_IDS.split(',').map((id) => id.trim()) : undefined,
    paceMs
  }
}
