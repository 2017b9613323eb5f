// Benchmark: what OpenTelemetry tracing costs, off and on, in one interleaved run (these machines
// drift, so only ratios measured side by side mean anything). Not a test: it reports.
//
//   npx tsx bench/tracing.ts        (BENCH_REPS=5 BENCH_SECONDS=5 for longer runs)
//
// Three gateways from the build (NODE_ENV=production, info logs, session, token, policy; limits
// off so only tracing differs), against the stand-in, non-streaming completions under wrk:
//   off           : no TRACING_ENABLED, no OTEL_EXPORTER_OTLP_ENDPOINT (the default)
//   on, sampled 0 : tracing on, TRACE_SAMPLE_RATIO=0 (instrumented, nothing recorded)
//   on, sampled 1 : tracing on, every request recorded and exported to a local OTLP sink
// and, for "off", which OpenTelemetry modules the process loaded at all (a resolve hook counts them).
// BENCH_BASELINE=<commit> adds that commit's gateway (built in a temporary folder from `git
// archive`, with this checkout's node_modules) as "before": off against before is what this
// version costs a deployment that does not trace.
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { SignJWT } from 'jose'
import { buildCommit } from './baseline.js'
import { cpuTicks } from './machine.js'

const REPS = Number(process.env.BENCH_REPS ?? 3)
const BASELINE = process.env.BENCH_BASELINE
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const AGENT = 'bench-agent'
const KEYS = {
  appId: 'BENCHAPP',
  apiKey: 'bench-api-key',
  keyId: 'bench-kid',
  secretKey: 'sk-alg-bench-secret',
  session: 'bench-session-secret-of-32-bytes-or-more'
}
const BODY = JSON.stringify({ messages: [{ role: 'user', content: 'What is the return policy?' }] })
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())
const dir = mkdtempSync(join(tmpdir(), 'asg-bench-tracing-'))
const children: ChildProcess[] = []
process.on('exit', () => {
  children.forEach((child) => child.kill('SIGKILL'))
  rmSync(dir, { recursive: true, force: true })
})

// Prints one stderr line per @opentelemetry module the process resolves.
const probe = join(dir, 'otel-probe.mjs')
writeFileSync(
  probe,
  `import { register } from 'node:module'
register('data:text/javascript,' + encodeURIComponent(\`export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  if (result.url.includes('/@opentelemetry/') || result.url.includes('/@fastify/otel/')) process.stderr.write('otel-module ' + result.url + '\\\\n')
  return result
}\`))
`
)

function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  const otelModules = new Set<string>()
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (line.startsWith('otel-module ')) otelModules.add(line.slice(12))
    else process.stderr.write(`${line}\n`)
  })
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  return { child, lines, otelModules }
}

async function firstJson(lines: AsyncIterator<string>, predicate: (line: Record<string, unknown>) => boolean) {
  for (;;) {
    const next = await lines.next()
    if (next.done) throw new Error('process ended before it was ready')
    try {
      const line = JSON.parse(next.value) as Record<string, unknown>
      if (predicate(line)) return line
    } catch {
      /* not JSON */
    }
  }
}

interface Target {
  name: string
  url: string
  pid: number
  otelModules: Set<string>
}

function wrk(target: Target, session: string, seconds: number) {
  const script = join(dir, 'post.lua')
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(BODY)}\nwrk.headers["content-type"] = "application/json"\nwrk.headers["authorization"] = "Bearer ${session}"\n`
  )
  const before = cpuTicks(target.pid)
  const out = execFileSync('wrk', [
    '-t1',
    '-c32',
    `-d${seconds}s`,
    '--latency',
    '-s',
    script,
    `${target.url}/agent-studio/1/agents/${AGENT}/completions?compatibilityMode=ai-sdk-5&stream=false`
  ]).toString()
  const cpu = cpuTicks(target.pid) - before
  const requests = Number(/(\d+) requests in/.exec(out)![1])
  if (/Non-2xx/.test(out)) throw new Error(`${target.name}: failed responses under load`)
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]), cpuUs: ((cpu / CLOCK_TICKS) * 1e6) / requests }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function main() {
  execFileSync('npm', ['run', 'build'], { stdio: 'ignore' })
  const baselineServer = BASELINE === undefined ? undefined : buildCommit(BASELINE, dir)
  // A stand-in for an OTLP collector, in its own process (wrk blocks this one): accepts every
  // export, and says how many it got when told to stop.
  const sink = start(
    [
      '-e',
      `
    let exports = 0
    const server = require('node:http').createServer((request, response) => {
      request.resume()
      request.on('end', () => { exports++; response.writeHead(200, { 'content-type': 'application/json' }).end('{}') })
    })
    server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: 'http://127.0.0.1:' + server.address().port })))
    process.on('SIGTERM', () => { console.log(JSON.stringify({ exports })); process.exit(0) })
  `
    ],
    {}
  )
  const sinkUrl = String((await firstJson(sink.lines, (l) => typeof l.url === 'string')).url)

  const standIn = start(['--import', 'tsx', 'bench/standin-server.ts'], {
    BENCH_APP_ID: KEYS.appId,
    BENCH_API_KEY: KEYS.apiKey,
    BENCH_KEY_ID: KEYS.keyId,
    BENCH_SECRET_KEY: KEYS.secretKey,
    BENCH_PACE_MS: '0'
  })
  const standInUrl = String((await firstJson(standIn.lines, (l) => typeof l.url === 'string')).url)
  const limitsOff = join(dir, 'limits-off.yaml')
  writeFileSync(
    limitsOff,
    'limits:\n  ip: { max: 0, windowSeconds: 60 }\n  user: { max: 0, windowSeconds: 60 }\n  routes:\n    completions: { max: 0, windowSeconds: 60 }\n  streams: { perUser: 0, global: 0 }\n'
  )
  const variants: Record<string, Record<string, string>> = {
    ...(baselineServer === undefined ? {} : { [`before (${BASELINE!.slice(0, 7)})`]: {} }),
    off: {},
    'on, sampled 0': { TRACING_ENABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, TRACE_SAMPLE_RATIO: '0' },
    'on, sampled 1': { TRACING_ENABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, TRACE_SAMPLE_RATIO: '1' }
  }
  const targets: Target[] = []
  for (const [name, env] of Object.entries(variants)) {
    const gateway = start(['--import', probe, name.startsWith('before') ? baselineServer! : 'dist/server.js'], {
      NODE_ENV: 'production',
      PORT: '0',
      LOG_LEVEL: 'info',
      GATEWAY_CONFIG_FILE: limitsOff,
      ALGOLIA_APP_ID: KEYS.appId,
      ALGOLIA_API_KEY: KEYS.apiKey,
      ALGOLIA_KEY_ID: KEYS.keyId,
      ALGOLIA_SECRET_KEY: KEYS.secretKey,
      AGENT_STUDIO_URL: standInUrl,
      ALGOLIA_SEARCH_API_URL: new URL(standInUrl).origin,
      ENABLE_SEARCH_KEY: 'false',
      SESSION_JWT_SECRET: KEYS.session,
      ALLOWED_AGENT_IDS: AGENT,
      ...env
    })
    const url = String((await firstJson(gateway.lines, (l) => l.msg === 'agent-studio-gateway listening')).address)
    void (async () => {
      for (let n = await gateway.lines.next(); !n.done; n = await gateway.lines.next());
    })()
    targets.push({ name, url, pid: gateway.child.pid!, otelModules: gateway.otelModules })
  }
  const session = await new SignJWT({ sub: 'bench-user' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(KEYS.session))

  for (const target of targets) wrk(target, session, 1)
  const results: Record<string, Array<ReturnType<typeof wrk>>> = Object.fromEntries(targets.map((t) => [t.name, []]))
  const load: number[] = []
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 === 0 ? targets : [...targets].reverse()
    for (const target of order) results[target.name]!.push(wrk(target, session, SECONDS))
    load.push(Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]))
  }

  const off = 'off'
  const rps = (name: string) => median(results[name]!.map((r) => r.rps))
  const cpu = (name: string) => median(results[name]!.map((r) => r.cpuUs))
  const spread = (name: string) => `${Math.min(...results[name]!.map((r) => r.rps)).toFixed(0)}–${Math.max(...results[name]!.map((r) => r.rps)).toFixed(0)}`
  console.log(
    `${REPS} interleaved repetitions of ${SECONDS} s, wrk -t1 -c32, non-streaming completions; Node ${process.version}; load average during the run ${Math.min(...load).toFixed(2)}–${Math.max(...load).toFixed(2)} on ${execFileSync('nproc').toString().trim()} cores.\n`
  )
  console.log('| tracing | req/s (median, range) | ÷ off | CPU µs/request | ÷ off | OpenTelemetry modules loaded |')
  console.log('|---|---|---|---|---|---|')
  for (const target of targets) {
    console.log(
      `| ${target.name} | ${rps(target.name).toFixed(0)} (${spread(target.name)}) | ${(rps(target.name) / rps(off)).toFixed(2)}× | ${cpu(target.name).toFixed(0)} | ${(cpu(target.name) / cpu(off)).toFixed(2)}× | ${target.otelModules.size} |`
    )
  }
  sink.child.kill('SIGTERM')
  console.log(`\nOTLP exports received by the sink: ${String((await firstJson(sink.lines, (l) => l.exports !== undefined)).exports)}.`)
  process.exit(0)
}

await main()
