import { parseArgs } from 'node:util'
import { pino } from 'pino'
import type { GatewayConfig } from './config/types.js'
import { LiveLimits } from './config/live-limits.js'
import { createMetrics } from './metrics.js'
import { connectRedis } from './redis/index.js'
import { clientTextForLog } from './logging/escape.js'
import { TOP_MAX_HOURS } from './usage/token-keys.js'
import type { TopEntry } from './usage/token-store.js'

export const USAGE_HELP = `usage: agent-studio-gateway usage top [--by users|agents] [--hours N] [--limit N] [--json]
  the heaviest users (or agents) by tokens charged over the last N hours (default 24, at most ${TOP_MAX_HOURS}),
  read from Redis (every replica's answers); needs the gateway's configuration (REDIS_URL, …)`

/**
 * `agent-studio-gateway usage top` (issue 24): who spends the tokens, across every replica,
 * from the hourly rankings the gateway keeps in Redis (src/usage/token-keys.ts). Read-only: one
 * script, no key left behind. Returns the exit code.
 */
export async function runUsage(argv: readonly string[], config: GatewayConfig, write: (line: string) => void, now: () => number = Date.now): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        by: { type: 'string', default: 'users' },
        hours: { type: 'string', default: '24' },
        limit: { type: 'string', default: '10' },
        json: { type: 'boolean', default: false }
      }
    })
  } catch (error) {
    write(`${(error as Error).message}\n${USAGE_HELP}`)
    return 2
  }
  const { positionals, values } = parsed
  const hours = Number(values.hours)
  const limit = Number(values.limit)
  if (
    positionals[0] !== 'top' ||
    (values.by !== 'users' && values.by !== 'agents') ||
    !Number.isInteger(hours) ||
    hours < 1 ||
    hours > TOP_MAX_HOURS ||
    !Number.isInteger(limit) ||
    limit < 1 ||
    limit > 1000
  ) {
    write(USAGE_HELP)
    return 2
  }
  const connection = config.redis.connection
  if (connection === undefined) {
    write('usage top reads the rankings in Redis: set REDIS_URL (or REDIS_SENTINELS) as the gateway has it')
    return 2
  }
  const redis = connectRedis({
    connection,
    namespace: config.redis.namespace,
    live: new LiveLimits(config.limits),
    metrics: createMetrics(),
    logger: pino({ level: 'silent' })
  })
  let top: TopEntry[]
  try {
    await redis.waitUntilReady()
    top = await redis.tokens.top(values.by, hours, limit, now())
  } catch (error) {
    write(`could not read the rankings from Redis: ${(error as Error).message}`)
    return 1
  } finally {
    await redis.close()
  }
  if (values.json) {
    write(JSON.stringify({ by: values.by, hours, top }))
    return 0
  }
  const what = values.by === 'users' ? 'user' : 'agent'
  write(`heaviest ${values.by}, last ${hours} h (tokens charged, every replica)`)
  if (top.length === 0) {
    write('  (no usage recorded)')
    return 0
  }
  const width = Math.max(6, ...top.map((entry) => String(entry.tokens).length))
  write(`  rank  ${'tokens'.padStart(width)}  ${what}`)
  top.forEach((entry, index) => write(`  ${String(index + 1).padStart(4)}  ${String(entry.tokens).padStart(width)}  ${clientTextForLog(entry.id)}`))
  return 0
}
