import { createRemoteJWKSet } from 'jose'
import { Agent } from 'undici'
import type { Dispatcher } from 'undici'
import { ConfigError, loadConfig } from './config/load-config.js'
import type { Environment } from './config/load-config.js'
import { processEnvironment } from './config/environment.js'
import type { GatewayConfig } from './config/types.js'
import { pino } from 'pino'
import { probeAgentStudio, probeApprovedDomains } from './credentials/agent-studio-probe.js'
import { budgetCheck } from './limits/request-limits.js'
import { LiveLimits } from './config/live-limits.js'
import { createMetrics } from './metrics.js'
import { connectRedis } from './redis/index.js'
import { auditKeys, describeAclNeeds, upstreamAclNeeds } from './keys/key-audit.js'
import { doctorRedisChecks } from './redis/diagnose.js'

/** `skip`: a check that could not run (an ACL the keys rightly lack, a rate limit): never reported as ready. */
type Outcome = 'ok' | 'warn' | 'fail' | 'skip'
interface Check {
  readonly outcome: Outcome
  readonly title: string
  readonly detail?: string
}

const MARK: Record<Outcome, string> = { ok: '✓', warn: '!', fail: '✗', skip: '?' }

/**
 * `npm run doctor` / `npx agent-studio-gateway doctor`: checks a configuration without
 * serving, and prints a checklist with what to fix. Exit code 1 when anything failed.
 */
export async function runDoctor(
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  env: Environment = processEnvironment()
): Promise<number> {
  const checks: Check[] = []
  const report = (check: Check) => {
    checks.push(check)
    write(`${MARK[check.outcome]} ${check.title}${check.detail ? `\n    ${check.detail.split('\n').join('\n    ')}` : ''}`)
  }
  write('agent-studio-gateway doctor')

  let config: GatewayConfig
  try {
    const loaded = loadConfig(env)
    config = loaded.config
    report({ outcome: 'ok', title: `configuration is valid${config.configFile ? ` (policy file ${config.configFile})` : ''}` })
    for (const warning of loaded.warnings) report({ outcome: 'warn', title: warning })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    report({ outcome: 'fail', title: 'configuration is invalid', detail: error.problems.map((p) => `- ${p}`).join('\n') })
    return summarise(checks, write)
  }

  const dispatcher = new Agent({ connect: { timeout: 5000 } })
  try {
    await checkKeys(config, dispatcher, report)
    await checkReachable(dispatcher, config.algolia.agentStudioUrl, 'Agent Studio', 'AGENT_STUDIO_URL', report)
    // Two calls per agent (the conversation probe and the approved-domains probe), spent from
    // the deployment's budget first when there is a shared one: all or none.
    const refusedForMs = await spendFromBudget(config, 2 * config.policy.allowedAgentIds.length)
    if (refusedForMs !== undefined) {
      report({
        outcome: 'skip',
        title: 'not checked: ALGOLIA_SECRET_KEY, ALLOWED_AGENT_IDS and approved domains',
        detail: `the deployment's Agent Studio budget (limits.upstreamBudget) has no room for doctor's ${2 * config.policy.allowedAgentIds.length} probes now; run doctor again in ${Math.ceil(refusedForMs / 1000)} s`
      })
    } else {
      for (const result of [...(await probeAgentStudio(config, dispatcher)), ...(await probeApprovedDomains(config, dispatcher))]) {
        report({
          outcome: result.status === 'not_checked' ? 'skip' : result.status,
          title: result.title,
          ...(result.detail === undefined ? {} : { detail: result.detail })
        })
      }
    }
    await checkSession(config, dispatcher, report)
    await checkRedis(config, report)
  } finally {
    await dispatcher.close()
  }
  return summarise(checks, write)
}

/**
 * doctor's probes are Agent Studio calls like any other (issue 20): with Redis, they are spent
 * from the deployment's budget in the background class before they are made, so running doctor
 * against a busy deployment cannot take the calls its users need. Without Redis there is no
 * shared budget to spend from. Returns how long to wait when the budget has no room.
 */
async function spendFromBudget(config: GatewayConfig, calls: number): Promise<number | undefined> {
  const connection = config.redis.connection
  if (connection === undefined || config.limits.upstreamBudget.max === 0 || calls === 0) return undefined
  const redis = connectRedis({
    connection,
    namespace: config.redis.namespace,
    live: new LiveLimits(config.limits),
    metrics: createMetrics(),
    logger: pino({ level: 'silent' })
  })
  try {
    await redis.waitUntilReady()
    for (let call = 0; call < calls; call++) {
      const verdict = await redis.admission.admit({ upstream: true, budget: budgetCheck(config.limits.upstreamBudget, 'background', undefined) })
      if (verdict.refusal !== undefined) return 'retryAfterMs' in verdict.refusal ? verdict.refusal.retryAfterMs : 1000
    }
    return undefined
  } catch {
    // Redis away or refusing: doctor's Redis checks say so; the probes go ahead unbudgeted.
    return undefined
  } finally {
    await redis.close()
  }
}

async function checkKeys(config: GatewayConfig, dispatcher: Dispatcher, report: (check: Check) => void) {
  if (config.server.skipKeyAudit) {
    report({ outcome: 'warn', title: "key audit skipped (SKIP_KEY_AUDIT=true): the keys' ACLs are not checked" })
    return
  }
  report({ outcome: 'ok', title: `ALGOLIA_API_KEY needs exactly: ${describeAclNeeds(upstreamAclNeeds(config))}` })
  const { problems, unverifiable, warnings } = await auditKeys(config, dispatcher)
  if (problems.length === 0 && unverifiable.length === 0) report({ outcome: 'ok', title: 'Algolia keys have only the ACLs the enabled routes need' })
  for (const problem of [...problems, ...unverifiable]) report({ outcome: 'fail', title: 'key audit', detail: problem })
  for (const warning of warnings) report({ outcome: 'warn', title: 'key hygiene', detail: warning })
}

async function checkReachable(dispatcher: Dispatcher, url: URL, name: string, variable: string, report: (check: Check) => void) {
  try {
    const { statusCode, body } = await dispatcher.request({ origin: url.origin, path: url.pathname || '/', method: 'HEAD', signal: AbortSignal.timeout(5000) })
    await body.dump()
    report({ outcome: 'ok', title: `${name} is reachable at ${url.origin} (HTTP ${statusCode})` })
  } catch (error) {
    report({ outcome: 'fail', title: `${name} is unreachable at ${url.href}`, detail: `${(error as Error).message}: check ${variable} and the network` })
  }
}

async function checkSession(config: GatewayConfig, dispatcher: Dispatcher, report: (check: Check) => void) {
  const session = config.session
  if (session.kind === 'introspect') {
    await checkReachable(dispatcher, session.url, 'the session endpoint', 'SESSION_INTROSPECT_URL', report)
    return
  }
  if (session.key.type !== 'jwks') {
    report({ outcome: 'ok', title: `session JWTs are verified with a ${session.key.type === 'secret' ? 'shared secret' : 'public key'} (loaded)` })
    return
  }
  try {
    const jwks = createRemoteJWKSet(session.key.url, { timeoutDuration: session.key.timeoutMs })
    await jwks.reload()
    const keys = jwks.jwks()?.keys.length ?? 0
    if (keys === 0) throw new Error('the key set is empty')
    report({ outcome: 'ok', title: `JWKS loaded from ${session.key.url.href} (${keys} key${keys === 1 ? '' : 's'})` })
  } catch (error) {
    report({ outcome: 'fail', title: `JWKS cannot be loaded from ${session.key.url.href}`, detail: `${(error as Error).message}: check SESSION_JWKS_URL` })
  }
}

async function checkRedis(config: GatewayConfig, report: (check: Check) => void) {
  // The mode, the slot layout, one round trip of every script (which checks the ACL) and the failure policy: src/redis/diagnose.ts.
  for (const check of await doctorRedisChecks(config.redis, config.limits.onRedisError)) report(check)
}

/** Exit 1 when a check failed; 0 otherwise, but "ready" only when every check could run. */
function summarise(checks: Check[], write: (line: string) => void): number {
  const count = (outcome: Outcome) => checks.filter((check) => check.outcome === outcome).length
  const [passed, warned, failed, skipped] = [count('ok'), count('warn'), count('fail'), count('skip')]
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  const warnings = warned ? `, ${plural(warned, 'warning')}` : ''
  if (failed > 0) write(`\nnot ready: ${plural(failed, 'check')} failed; fix them and run doctor again`)
  else if (skipped > 0) write(`\nnot fully checked: ${plural(passed, 'check')} passed${warnings}, ${skipped} not checked (marked ?): see why above`)
  else write(`\nready: ${plural(passed, 'check')} passed${warnings}`)
  return failed === 0 ? 0 : 1
}
