// Issue 19.8: production started in silence with every ALLOW_* opt-in, an agent id `test`,
// http origins and no upstream budget, and `0.0.0.0/0` passed validation, then crashed the start
// or answered 500. Each dangerous setting is now refused or warned about, and the table in
// docs/configuration.md says which.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config/load-config.js'
import { PRODUCTION_CHECKS } from '../../src/config/production-checks.js'
import { PRODUCTION_ENV } from '../helpers/fixtures.js'
import { tempDir } from '../helpers/temp-dir.js'

const production = PRODUCTION_ENV
const policyFile = (content: string) => {
  const path = join(tempDir('asg-prod-'), 'gateway.yaml')
  writeFileSync(path, content)
  return path
}
const budgeted = policyFile('limits:\n  upstreamBudget: { max: 90, windowSeconds: 60 }\n')
function outcome(extra: Record<string, string | undefined>, file = budgeted): { problems: readonly string[]; warnings: readonly string[] } {
  try {
    const { warnings } = loadConfig({ ...production, GATEWAY_CONFIG_FILE: file, ...extra }, { defaultConfigFile: undefined })
    return { problems: [], warnings }
  } catch (error) {
    if (error instanceof ConfigError) return { problems: error.problems, warnings: [] }
    throw error
  }
}

t.test('a production configuration with none of them starts without a warning', async (t) => {
  t.same(outcome({}), { problems: [], warnings: [] })
})

t.test('each opt-in that hands the browser control of the agent is refused under production', async (t) => {
  for (const name of ['ALLOW_CONFIGURATION', 'ALLOW_MCP_SERVERS', 'ALLOW_SYSTEM_MESSAGES']) {
    const { problems } = outcome({ [name]: 'true' })
    t.equal(problems.length, 1, name)
    t.match(problems[0], new RegExp(`^${name}=true: refused under NODE_ENV=production: `))
    t.same(
      loadConfig({ ...production, NODE_ENV: 'development', GATEWAY_CONFIG_FILE: budgeted, [name]: 'true' }, { defaultConfigFile: undefined }).warnings,
      [],
      `${name} is a developer's choice outside production`
    )
  }
})

t.test('search parameters and indices from the browser start, with a loud warning', async (t) => {
  for (const name of ['ALLOW_SEARCH_PARAMETERS', 'ALLOW_INDICES']) {
    const { problems, warnings } = outcome({ [name]: 'true' })
    t.same(problems, [], name)
    t.equal(warnings.length, 1)
    t.match(warnings[0], new RegExp(`^${name}=true: DANGEROUS IN PRODUCTION: `))
  }
})

t.test('the agent id "test" is refused under production, in any case', async (t) => {
  const { problems } = outcome({ ALLOWED_AGENT_IDS: 'a1, Test' })
  t.same(
    problems.map((p) => p.split(':')[0]),
    ['ALLOWED_AGENT_IDS containing test (Test)']
  )
})

t.test('http origins are refused under production, loopback ones warned about', async (t) => {
  const refused = outcome({ ALLOWED_ORIGINS: 'https://app.example.com, http://app.example.com' })
  t.equal(refused.problems.length, 1)
  t.match(refused.problems[0], /^ALLOWED_ORIGINS with an http:\/\/ origin \(http:\/\/app\.example\.com\): refused under NODE_ENV=production/)
  const local = outcome({ ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:5173, http://127.0.0.1:8080' })
  t.same(local.problems, [])
  t.equal(local.warnings.length, 2)
  t.match(local.warnings[0], /^ALLOWED_ORIGINS with an http:\/\/ loopback origin \(http:\/\/localhost:5173\): DANGEROUS IN PRODUCTION/)
})

t.test('no upstream budget and a skipped key audit are warned about under production', async (t) => {
  const { warnings } = outcome({ SKIP_KEY_AUDIT: 'true' }, policyFile('limits:\n  upstreamBudget: { max: 0 }\n'))
  t.equal(warnings.length, 2)
  t.match(warnings[0], /^limits\.upstreamBudget\.max: 0: DANGEROUS IN PRODUCTION: no deployment-wide budget/)
  t.match(warnings[1], /^SKIP_KEY_AUDIT=true: DANGEROUS IN PRODUCTION/)
})

t.test('a per-user share as large as the whole budget is warned about under production (issue 20)', async (t) => {
  const { problems, warnings } = outcome({}, policyFile('limits:\n  upstreamBudget: { max: 90, windowSeconds: 60, perUser: 90 }\n'))
  t.same(problems, [])
  t.equal(warnings.length, 1)
  t.match(warnings[0], /^limits\.upstreamBudget\.perUser at or above max: DANGEROUS IN PRODUCTION: one user alone may spend the whole budget/)
  t.same(outcome({}, policyFile('limits:\n  upstreamBudget: { max: 90, windowSeconds: 60, perUser: 30 }\n')).warnings, [], 'a third is fine')
})

t.test('0.0.0.0/0 and ::/0 are refused by name wherever addresses are listed, instead of crashing later', async (t) => {
  const file = policyFile('limits:\n  upstreamBudget: { max: 90, windowSeconds: 60 }\n  allowList: ["0.0.0.0/0", "10.0.0.0/33", "10.0.0.0/8"]\n')
  const { problems } = outcome({ TRUSTED_PROXIES: '10.0.0.1, 0.0.0.0/0', METRICS_ALLOW_FROM: '::/0' }, file)
  t.same(problems, [
    `config file ${file} limits.allowList.0: "0.0.0.0/0" matches every address; list the addresses or ranges you mean`,
    `config file ${file} limits.allowList.1: "10.0.0.0/33" is not an IP address or CIDR range (e.g. 10.0.0.0/8)`,
    'TRUSTED_PROXIES: "0.0.0.0/0" matches every address; list the addresses or ranges you mean',
    'METRICS_ALLOW_FROM: "::/0" matches every address; list the addresses or ranges you mean'
  ])
  // Review finding: an IPv4-mapped /96 matched every IPv4 client and passed.
  t.same(outcome({ TRUSTED_PROXIES: '::ffff:0.0.0.0/96, ::ffff:10.0.0.0/104' }).problems, [
    'TRUSTED_PROXIES: "::ffff:0.0.0.0/96" matches every IPv4 address; list the addresses or ranges you mean'
  ])
})

t.test('the production table of docs/configuration.md lists exactly these checks, with their verdicts', async (t) => {
  const reference = readFileSync('docs/configuration.md', 'utf8')
  const section = reference.slice(reference.indexOf('## Production safety checks'))
  const rows = [...section.matchAll(/^\| `([^`]+)` \| (refused|warned) \|/gm)].map(([, setting, verdict]) => `${setting} ${verdict}`)
  t.same(
    rows,
    PRODUCTION_CHECKS.map((check) => `${check.setting} ${check.verdict === 'refuse' ? 'refused' : 'warned'}`)
  )
})
