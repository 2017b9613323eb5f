// @test-process: shared (spawns a gateway process to read its log lines)
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import ts from 'typescript'
import { request } from 'undici'
import { SUMMARY_LINE_FIELDS } from '../../src/logging/request-summary.js'
import { gatewayEnv } from '../helpers/fixtures.js'
import { startStandIn } from '../helpers/gateway.js'
import { SHARED_REDIS, redisNamespace } from '../helpers/limits.js'
import { spawnGateway } from '../helpers/process.js'

// docs/logging.md promises every line and every field the gateway writes. This file holds it to
// that, three ways: the log calls in src/ (read with the TypeScript parser, so a new line or field
// anywhere fails here until it is documented), the summary line's one list of fields, and the
// lines a real process writes through start, reload and shutdown.

interface Section {
  readonly messages: string[]
  /** Lines written by a library (Fastify, close-with-grace), not by a call in src/. */
  readonly library: boolean
  readonly fields: Set<string>
}

const normalise = (text: string) => text.replace(/\s+/g, ' ').trim()
const toPattern = (message: string) =>
  new RegExp(
    `^${message
      .split('…')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's'
  )

function readReference() {
  const doc = readFileSync('docs/logging.md', 'utf8')
  const common = new Set<string>()
  const sections: Section[] = []
  let current: Section | undefined
  for (const line of doc.split('\n')) {
    if (line.startsWith('## ')) current = undefined
    if (line.startsWith('### ')) {
      current = { messages: [...line.matchAll(/`([^`]+)`/g)].map((match) => normalise(match[1]!)), library: /written by/.test(line), fields: new Set() }
      sections.push(current)
    }
    const field = /^\| `([A-Za-z]+)` \|/.exec(line)?.[1]
    if (field === undefined) continue
    if (current === undefined) common.add(field)
    else current.fields.add(field)
  }
  return { common, sections }
}

const reference = readReference()
/** The most specific section whose message matches (`…` alone, the free-text warnings, matches anything). */
function sectionFor(message: string): Section | undefined {
  let best: { section: Section; specificity: number } | undefined
  for (const section of reference.sections) {
    for (const documented of section.messages) {
      const specificity = documented.replaceAll('…', '').length
      if (toPattern(documented).test(normalise(message)) && (best === undefined || specificity > best.specificity)) best = { section, specificity }
    }
  }
  return best?.section
}

interface LogCall {
  readonly where: string
  /** The message, with `…` for each interpolated part; `…` alone when it is not a literal. */
  readonly messages: string[]
  /** Keys of the object logged with it; undefined when that object is not a literal. */
  readonly fields: string[] | undefined
}

/** Every `log.info(…)`, `logger.warn(…)`, `request.log.error(…)` … in src/. */
function logCalls(): LogCall[] {
  const calls: LogCall[] = []
  const files = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'))
  for (const file of files) {
    const path = join('src', file)
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true)
    const visit = (node: ts.Node) => {
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        /^(trace|debug|info|warn|error|fatal)$/.test(node.expression.name.text) &&
        /(^|\.)(log|logger)$/.test(node.expression.expression.getText(source))
      ) {
        const args = node.arguments
        const message = args.length === 1 ? args[0]! : args[1]!
        const fields =
          args.length === 1 ? [] : ts.isObjectLiteralExpression(args[0]!) ? args[0].properties.map((property) => property.name!.getText(source)) : undefined
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source))
        calls.push({ where: `${path}:${line + 1}`, messages: messagesOf(message), fields })
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
  return calls
}

function messagesOf(node: ts.Expression): string[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text]
  if (ts.isTemplateExpression(node)) return [node.head.text + node.templateSpans.map((span) => `…${span.literal.text}`).join('')]
  if (ts.isConditionalExpression(node)) return [...messagesOf(node.whenTrue), ...messagesOf(node.whenFalse)]
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    return messagesOf(node.left).flatMap((left) => messagesOf(node.right).map((right) => left + right))
  }
  return ['…']
}

t.test('every log call in src/ is documented, with exactly the fields it logs', async (t) => {
  const calls = logCalls()
  t.ok(calls.length >= 15, `found the log calls (${calls.length})`)
  for (const call of calls) {
    for (const message of call.messages) {
      const section = sectionFor(message)
      if (section === undefined || section.library) {
        t.fail(`${call.where}: "${message}" is not in docs/logging.md`)
        continue
      }
      if (call.fields === undefined) {
        // Fields built elsewhere: the summary line's list and the start-up facts are checked below.
        t.ok(
          ['request', 'agent-studio-gateway listening'].includes(message),
          `${call.where}: "${message}" logs a computed object; document it and check it like the summary line`
        )
      } else {
        t.same([...section.fields].sort(), [...call.fields].sort(), `${call.where}: "${message}" fields`)
      }
    }
  }
  const written = calls.flatMap((call) => call.messages)
  for (const section of reference.sections.filter((s) => !s.library)) {
    t.ok(
      section.messages.some((documented) => written.some((message) => toPattern(documented).test(normalise(message)))),
      `"${section.messages.join(' / ')}" is still written by the code`
    )
  }
})

t.test('the summary line is documented with exactly the fields it has', async (t) => {
  t.same([...sectionFor('request')!.fields].sort(), [...SUMMARY_LINE_FIELDS].sort())
  t.same([...reference.common].sort(), ['level', 'msg', 'reqId', 'service', 'time'], "and every line's own fields")
})

t.test('a real process writes only documented lines and fields through start, reload and shutdown, and counts the reload', async (t) => {
  const { url } = await startStandIn(t)
  const dir = mkdtempSync(join(tmpdir(), 'asg-logref-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'gateway.yaml')
  writeFileSync(file, 'limits:\n  user: { max: 100, windowSeconds: 60 }\n')
  const gateway = spawnGateway({ ...gatewayEnv(url), PORT: '0', GATEWAY_CONFIG_FILE: file, REDIS_URL: SHARED_REDIS, REDIS_NAMESPACE: redisNamespace(t) })
  t.teardown(() => gateway.child.kill('SIGKILL'))
  const listening = await gateway.waitForLine((line) => line.msg === 'agent-studio-gateway listening')
  await gateway.waitForLine((line) => line.msg === 'Redis connected: limits and stream caps are shared across replicas')
  gateway.child.kill('SIGHUP')
  await gateway.waitForLine((line) => line.msg === 'limits reloaded')
  await gateway.waitForLine((line) => String(line.msg).startsWith('secrets reloaded'))
  // The same events, counted for the alerts (ReloadRejected, KeyAuditProblems).
  const metrics = await (await request(`${String(listening.address)}/metrics`)).body.text()
  t.match(metrics, /^gateway_reloads_total\{what="limits",outcome="applied"\} 1$/m, 'the reload is counted')
  t.match(metrics, /^gateway_reloads_total\{what="secrets",outcome="applied"\} 1$/m)
  t.match(metrics, /^gateway_key_audit_problems 0$/m, 'the clean key audit is on the gauge')
  gateway.child.kill('SIGTERM')
  t.equal((await gateway.exited).code, 0)

  const ownFields = (line: Record<string, unknown>) =>
    Object.keys(line)
      .filter((key) => !reference.common.has(key))
      .sort()
  t.same(
    ownFields(listening),
    [...sectionFor('agent-studio-gateway listening')!.fields].sort(),
    'the start-up line has every documented field (a policy file was given)'
  )
  const seen = new Set<string>()
  for (const line of gateway.lines) {
    const message = String(line.msg)
    seen.add(message)
    const section = sectionFor(message)
    if (section === undefined) {
      t.fail(`undocumented line: ${message}`)
      continue
    }
    for (const field of ownFields(line)) t.ok(section.fields.has(field), `"${message}": field ${field} is documented`)
  }
  t.ok(seen.has('shutting down: no new connections, letting streams in flight finish'), 'the shutdown line was checked too')
})
