// @test-process: shared (runs promtool)
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { createMetrics } from '../../src/metrics.js'

// The alerts, their unit tests, the Prometheus config and the Grafana dashboard are checked
// here, so CI (npm test) validates them: promtool (Debian's `prometheus` package, installed by
// scripts/ensure-test-deps.sh) and every metric they query must be one the gateway exports.

const promtool = (...args: string[]) => execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

interface Rule {
  alert: string
  expr: string
  annotations: Record<string, string>
}
const alerts = (parse(readFileSync('deploy/prometheus/alerts.yml', 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((group) => group.rules)
const dashboard = JSON.parse(readFileSync('deploy/grafana/agent-studio-gateway.json', 'utf8')) as {
  panels: Array<{ title: string; targets?: Array<{ expr: string }> }>
}
const runbook = readFileSync('docs/runbook.md', 'utf8')

/** What the gateway's /metrics can hold: its registry's names, and each histogram's series. */
function exportedSeries(): Set<string> {
  const names = new Set<string>()
  for (const metric of createMetrics().registry.getMetricsAsArray()) {
    names.add(metric.name)
    if ((metric as unknown as { type: string }).type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix)
  }
  return names
}

const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'bool', 'on', 'ignoring', 'group_left', 'group_right', 'offset'])

/** The metric names a PromQL expression reads (strings, matchers, groupings, ranges and function names removed). */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '')
  return [...stripped.matchAll(/(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)].map((match) => match[1]!).filter((name) => !PROMQL_WORDS.has(name))
}

t.test('promtool: the alert rules and the Prometheus config are valid, and the alerts pass their unit tests', async (t) => {
  t.match(promtool('check', 'rules', 'deploy/prometheus/alerts.yml'), /SUCCESS: \d+ rules found/)
  t.match(promtool('check', 'config', 'deploy/prometheus/prometheus.yml'), /is valid prometheus config file syntax/)
  t.match(promtool('test', 'rules', 'deploy/prometheus/alerts.test.yml'), /SUCCESS/)
})

t.test('every alert fires in a unit test and has a runbook section, and every runbook section is an alert', async (t) => {
  const unitTests = parse(readFileSync('deploy/prometheus/alerts.test.yml', 'utf8')) as {
    tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts?: unknown[] }> }>
  }
  const fired = new Set(
    unitTests.tests
      .flatMap((test) => test.alert_rule_test)
      .filter((c) => (c.exp_alerts ?? []).length > 0)
      .map((c) => c.alertname)
  )
  const sections = [...runbook.matchAll(/^## (\w+)$/gm)].map((match) => match[1]!)
  for (const alert of alerts) {
    t.ok(fired.has(alert.alert), `${alert.alert} is shown firing by a unit test`)
    t.ok(sections.includes(alert.alert), `${alert.alert} has a runbook section`)
    t.equal(alert.annotations.runbook_url, `docs/runbook.md#${alert.alert.toLowerCase()}`, `${alert.alert} links its section`)
  }
  t.same(sections.sort(), alerts.map((alert) => alert.alert).sort(), 'no runbook section for an alert that does not exist')
})

t.test('the dashboard and the alerts query only metrics the gateway exports', async (t) => {
  const exported = exportedSeries()
  const targets = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `dashboard "${panel.title}"`, expr: target.expr })))
  const queries = [...targets, ...alerts.map((alert) => ({ where: `alert ${alert.alert}`, expr: alert.expr }))]
  t.ok(targets.length >= 15, `the dashboard's queries were read (${targets.length})`)
  const seen = new Set<string>()
  for (const { where, expr } of queries) {
    const names = metricNames(expr)
    t.ok(names.length > 0, `${where}: reads a metric`)
    for (const name of names) {
      seen.add(name)
      // `up` is Prometheus's own: the scrape failed.
      if (name === 'up' && where.startsWith('alert')) continue
      t.ok(exported.has(name), `${where}: ${name} is exported by the gateway`)
    }
  }
  t.ok(
    seen.has('gateway_upstream_ttfb_seconds_bucket') && seen.has('gateway_before_upstream_seconds_bucket'),
    'the "is it us or Agent Studio" queries are there'
  )
  t.notOk(
    metricNames('sum by (agent, le) (rate(gateway_upstream_ttfbs_seconds_bucket[5m]))').every((name) => exported.has(name)),
    'a misspelt metric would be caught'
  )
})
