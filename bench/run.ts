// Benchmark: the gateway against a bare @fastify/http-proxy and against talking to the Agent
// Studio stand-in directly, in one run, with interleaved repetitions (these machines drift, so
// only ratios measured side by side mean anything). Not a test: it reports, it asserts nothing.
//
//   npm run bench            (BENCH_REPS=5 BENCH_SECONDS=5 for longer runs)
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { SignJWT } from 'jose'
import { Agent, request } from 'undici'

const REPS = Number(process.env.BENCH_REPS ?? 3)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const STREAMS = Number(process.env.BENCH_STREAMS ?? 2000)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200)
const AGENT = 'bench-agent'
const KEYS = { appId: 'BENCHAPP', apiKey: 'bench-api-key', keyId: 'bench-kid', secretKey: 'sk-alg-bench-secret', session: 'bench-session-secret-of-32-bytes-or-more' }
const COMPLETION = `/agent-studio/1/agents/${AGENT}/completions`
const BODY = JSON.stringify({ messages: [{ role: 'user', content: 'What is the return policy?' }] })
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())

interface Target { name: string; base: string; headers: Record<string, string>; pid?: number }
interface Proc { child: ChildProcess; lines: AsyncIterator<string>; pid: number }

const children: ChildProcess[] = []
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')))

function start(script: string, env: Record<string, string>): Proc {
  // The gateway runs from its build, as `npm start` does; the helpers through tsx.
  const args = script.endsWith('.js') ? [script] : ['--import', 'tsx', script]
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  return { child, lines, pid: child.pid! }
}

async function firstJson(proc: Proc, predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (;;) {
    const next = await proc.lines.next()
    if (next.done) throw new Error('process ended before it was ready')
    try {
      const line = JSON.parse(next.value) as Record<string, unknown>
      if (predicate(line)) return line
    } catch { /* not JSON */ }
  }
}

/** Keep reading a child's stdout so its logging never blocks on a full pipe. */
function drain(proc: Proc) {
  void (async () => { for (let n = await proc.lines.next(); !n.done; n = await proc.lines.next()); })()
}

/** Policy files for the gateway variants: limits off, or generous limits that never refuse (so only their cost shows). */
function limitsConfig(enabled: boolean): string {
  const window = enabled ? '{ max: 1000000, windowSeconds: 3600 }' : '{ max: 0, windowSeconds: 60 }'
  const streams = enabled ? '{ perUser: 10000, global: 1000000 }' : '{ perUser: 0, global: 0 }'
  const path = join(dir, `limits-${enabled ? 'on' : 'off'}.yaml`)
  writeFileSync(path, `limits:\n  ip: ${window}\n  user: ${window}\n  routes:\n    completions: ${window}\n  streams: ${streams}\n`)
  return path
}

const GATEWAY_VARIANTS = {
  gateway: () => ({ GATEWAY_CONFIG_FILE: limitsConfig(false) }),
  'gateway + memory limits': () => ({ GATEWAY_CONFIG_FILE: limitsConfig(true) }),
  'gateway + Redis limits': () => ({ GATEWAY_CONFIG_FILE: limitsConfig(true), REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_NAMESPACE: `asg-bench:${process.pid}:` })
} as const

async function startStack(paceMs: number, variants: Array<keyof typeof GATEWAY_VARIANTS>) {
  const userToken = await new SignJWT({ sub: 'bench-user' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: KEYS.keyId }).setIssuedAt().setExpirationTime('2h').sign(new TextEncoder().encode(KEYS.secretKey))
  const session = await new SignJWT({ sub: 'bench-user' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('2h').sign(new TextEncoder().encode(KEYS.session))
  const standIn = start('bench/standin-server.ts', { BENCH_APP_ID: KEYS.appId, BENCH_API_KEY: KEYS.apiKey, BENCH_KEY_ID: KEYS.keyId, BENCH_SECRET_KEY: KEYS.secretKey, BENCH_PACE_MS: String(paceMs) })
  const standInUrl = String((await firstJson(standIn, (l) => typeof l.url === 'string')).url)
  const bare = start('bench/bare-proxy.ts', { BENCH_UPSTREAM: standInUrl, BENCH_APP_ID: KEYS.appId, BENCH_API_KEY: KEYS.apiKey, BENCH_USER_TOKEN: userToken })
  const bareUrl = String((await firstJson(bare, (l) => typeof l.url === 'string')).url)
  drain(bare)
  const targets: Target[] = [
    { name: 'direct', base: new URL(standInUrl).origin, headers: { 'x-algolia-application-id': KEYS.appId, 'x-algolia-api-key': KEYS.apiKey, 'x-algolia-secure-user-token': userToken } },
    { name: 'bare proxy', base: bareUrl, headers: {}, pid: bare.pid }
  ]
  const procs = [standIn, bare]
  for (const variant of variants) {
    const gateway = start('dist/server.js', {
      NODE_ENV: 'production', PORT: '0', LOG_LEVEL: 'info',
      ALGOLIA_APP_ID: KEYS.appId, ALGOLIA_API_KEY: KEYS.apiKey, ALGOLIA_KEY_ID: KEYS.keyId, ALGOLIA_SECRET_KEY: KEYS.secretKey,
      AGENT_STUDIO_URL: standInUrl, ALGOLIA_SEARCH_API_URL: new URL(standInUrl).origin, ENABLE_SEARCH_KEY: 'false',
      SESSION_JWT_SECRET: KEYS.session, ALLOWED_AGENT_IDS: AGENT,
      ...GATEWAY_VARIANTS[variant]()
    })
    const gatewayUrl = String((await firstJson(gateway, (l) => l.msg === 'agent-studio-gateway listening')).address)
    drain(gateway)
    targets.push({ name: variant, base: gatewayUrl, headers: { authorization: `Bearer ${session}` }, pid: gateway.pid })
    procs.push(gateway)
  }
  return { standIn, targets, stop: () => procs.forEach((p) => p.child.kill('SIGTERM')) }
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return Number(fields[11]) + Number(fields[12])
}
function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1])
}

const dir = mkdtempSync(join(tmpdir(), 'asg-bench-'))
function wrk(target: Target, seconds: number) {
  const script = join(dir, `${target.name.replace(' ', '-')}.lua`)
  const headers = { 'content-type': 'application/json', ...target.headers }
  writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(BODY)}\n${Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join('\n')}\n`)
  const before = target.pid === undefined ? 0 : cpuTicks(target.pid)
  const out = execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, `${target.base}${COMPLETION}?compatibilityMode=ai-sdk-5&stream=false`]).toString()
  const cpu = target.pid === undefined ? 0 : cpuTicks(target.pid) - before
  const requests = Number(/(\d+) requests in/.exec(out)![1])
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
  if (non2xx > 0) throw new Error(`${target.name}: ${non2xx} failed responses under load`)
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]), p99Ms: toMs(/99%\s+([\d.]+\w+)/.exec(out)![1]!), cpuUsPerRequest: (cpu / CLOCK_TICKS) * 1e6 / requests }
}
function toMs(value: string): number {
  const n = parseFloat(value)
  return value.endsWith('us') ? n / 1000 : value.endsWith('ms') ? n : n * 1000
}

const median = (xs: number[]) => percentile(xs, 50)
function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
const client = new Agent({ connections: STREAMS + 100, pipelining: 1 })

async function streamOnce(target: Target) {
  const started = performance.now()
  const response = await request(`${target.base}${COMPLETION}?compatibilityMode=ai-sdk-5`, { method: 'POST', dispatcher: client, headers: { 'content-type': 'application/json', ...target.headers }, body: BODY })
  let first = 0
  for await (const chunk of response.body) if (first === 0 && chunk.length > 0) first = performance.now() - started
  return { firstMs: first, endMs: performance.now() - started }
}

async function main() {
  execFileSync('npm', ['run', 'build'], { stdio: 'ignore' })
  const lines: string[] = []
  const say = (line = '') => { lines.push(line); process.stdout.write(`${line}\n`) }
  const fast = await startStack(0, ['gateway', 'gateway + memory limits', 'gateway + Redis limits'])
  const main = fast.targets.slice(0, 3)

  // Warm up JITs and connection pools.
  for (const target of fast.targets) wrk(target, 1)

  const through: Record<string, Array<ReturnType<typeof wrk>>> = Object.fromEntries(fast.targets.map((target) => [target.name, []]))
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 === 0 ? fast.targets : [...fast.targets].reverse()
    for (const target of order) through[target.name]!.push(wrk(target, SECONDS))
  }
  const m = (name: string, key: 'rps' | 'p99Ms' | 'cpuUsPerRequest') => median(through[name]!.map((r) => r[key]))

  const ttfe: Record<string, { first: number[]; end: number[] }> = { direct: { first: [], end: [] }, 'bare proxy': { first: [], end: [] }, gateway: { first: [], end: [] } }
  for (let i = 0; i < SAMPLES; i++) {
    for (const target of main) {
      const { firstMs, endMs } = await streamOnce(target)
      if (i >= 10) { ttfe[target.name]!.first.push(firstMs); ttfe[target.name]!.end.push(endMs) }
    }
  }
  // Conversation ids (issue 9): a completion naming a conversation against one naming none. Ids
  // are namespaced per user by construction, so no lookup should show: expected 1.0×.
  const gatewayTarget = fast.targets.find((target) => target.name === 'gateway')!
  const conversationIds: Record<string, number[]> = { 'no conversation id': [], 'new conversation id (first message)': [], 'continuing a conversation': [] }
  const timed = async (body: string) => {
    const started = performance.now()
    const response = await request(`${gatewayTarget.base}${COMPLETION}?compatibilityMode=ai-sdk-5&stream=false`, { method: 'POST', dispatcher: client, headers: { 'content-type': 'application/json', ...gatewayTarget.headers }, body })
    await response.body.dump()
    if (response.statusCode !== 200) throw new Error(`conversation id bench: ${response.statusCode}`)
    return performance.now() - started
  }
  const withId = (id: string) => JSON.stringify({ id, messages: [{ id: `m_${id}`, role: 'user', parts: [{ type: 'text', text: 'What is the return policy?' }] }] })
  await timed(withId('bench_known'))
  for (let i = 0; i < SAMPLES; i++) {
    conversationIds['no conversation id']!.push(await timed(BODY))
    conversationIds['new conversation id (first message)']!.push(await timed(withId(`bench_new_${process.pid}_${i}`)))
    conversationIds['continuing a conversation']!.push(await timed(withId('bench_known')))
  }
  fast.stop()

  // Slow streams (one event every 2 s) stay open: memory per stream, and abort latency.
  const slow = await startStack(2000, ['gateway'])
  const memory: Record<string, number> = {}
  const abort: Record<string, number[]> = { 'bare proxy': [], gateway: [] }
  const closes = slow.standIn.lines
  for (const target of slow.targets.slice(1)) {
    for (let i = 0; i < 20; i++) await openAndAbort(target, closes)
    const before = rssKiB(target.pid!)
    const controllers: AbortController[] = []
    await Promise.all(Array.from({ length: STREAMS }, async () => {
      const controller = new AbortController()
      controllers.push(controller)
      const response = await request(`${target.base}${COMPLETION}?compatibilityMode=ai-sdk-5`, { method: 'POST', dispatcher: client, headers: { 'content-type': 'application/json', ...target.headers }, body: BODY, signal: controller.signal })
      const iterator = response.body[Symbol.asyncIterator]()
      await iterator.next()
      response.body.on('error', () => undefined)
      response.body.resume()
    }))
    memory[target.name] = (rssKiB(target.pid!) - before) / STREAMS
    controllers.forEach((c) => c.abort())
    for (let n = 0; n < STREAMS; n++) await closes.next()
    for (let i = 0; i < 100; i++) abort[target.name]!.push(await openAndAbort(target, closes))
  }
  slow.stop()

  const versions = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> }
  say(`## Results (${new Date().toISOString().slice(0, 16)}Z)`)
  say()
  say(`Machine: ${execFileSync('nproc').toString().trim()} cores, Node ${process.version}, fastify ${versions.dependencies.fastify}, undici ${versions.dependencies.undici}; ${REPS} interleaved repetitions of ${SECONDS} s, wrk -t1 -c${CONNECTIONS}; medians.`)
  say()
  say('| figure | direct | bare proxy | gateway | gateway ÷ bare |')
  say('|---|---|---|---|---|')
  say(`| non-streaming req/s | ${m('direct', 'rps').toFixed(0)} | ${m('bare proxy', 'rps').toFixed(0)} (${(m('bare proxy', 'rps') / m('direct', 'rps')).toFixed(2)}×) | ${m('gateway', 'rps').toFixed(0)} (${(m('gateway', 'rps') / m('direct', 'rps')).toFixed(2)}×) | **${(m('gateway', 'rps') / m('bare proxy', 'rps')).toFixed(2)}×** |`)
  say(`| non-streaming p99 (ms) | ${m('direct', 'p99Ms').toFixed(2)} | ${m('bare proxy', 'p99Ms').toFixed(2)} | ${m('gateway', 'p99Ms').toFixed(2)} | ${(m('gateway', 'p99Ms') / m('bare proxy', 'p99Ms')).toFixed(2)}× |`)
  say(`| proxy CPU per request (µs) | – | ${m('bare proxy', 'cpuUsPerRequest').toFixed(0)} | ${m('gateway', 'cpuUsPerRequest').toFixed(0)} | **${(m('gateway', 'cpuUsPerRequest') / m('bare proxy', 'cpuUsPerRequest')).toFixed(2)}×** |`)
  for (const [label, key, p] of [['first event p50 (ms)', 'first', 50], ['first event p99 (ms)', 'first', 99], ['end of stream p50 (ms)', 'end', 50], ['end of stream p99 (ms)', 'end', 99]] as const) {
    const v = (name: string) => percentile(ttfe[name]![key], p)
    say(`| ${label} | ${v('direct').toFixed(2)} | ${v('bare proxy').toFixed(2)} (+${(v('bare proxy') - v('direct')).toFixed(2)}) | ${v('gateway').toFixed(2)} (+${(v('gateway') - v('direct')).toFixed(2)}) | ${(v('gateway') / v('bare proxy')).toFixed(2)}× |`)
  }
  say(`| memory per open stream, ${STREAMS} open (KiB) | – | ${memory['bare proxy']!.toFixed(1)} | ${memory.gateway!.toFixed(1)} | **${(memory.gateway! / memory['bare proxy']!).toFixed(2)}×** |`)
  say(`| client abort → upstream close p50 (ms) | – | ${percentile(abort['bare proxy']!, 50).toFixed(2)} | ${percentile(abort.gateway!, 50).toFixed(2)} | |`)
  say(`| client abort → upstream close p99 (ms) | – | ${percentile(abort['bare proxy']!, 99).toFixed(2)} | ${percentile(abort.gateway!, 99).toFixed(2)} | |`)
  say()
  say('Request limits (issue 4), each variant against the gateway with limits off, same run:')
  say()
  say('| variant | req/s | ÷ limits off | CPU µs/request | ÷ limits off |')
  say('|---|---|---|---|---|')
  for (const name of ['gateway', 'gateway + memory limits', 'gateway + Redis limits']) {
    say(`| ${name === 'gateway' ? 'gateway, limits off' : name} | ${m(name, 'rps').toFixed(0)} | ${(m(name, 'rps') / m('gateway', 'rps')).toFixed(2)}× | ${m(name, 'cpuUsPerRequest').toFixed(0)} | ${(m(name, 'cpuUsPerRequest') / m('gateway', 'cpuUsPerRequest')).toFixed(2)}× |`)
  }
  say()
  say('Conversation ids (issue 9), sequential non-streaming completions through the gateway:')
  say()
  say('| request | p50 (ms) | p99 (ms) | p50 ÷ no id |')
  say('|---|---|---|---|')
  for (const [name, samples] of Object.entries(conversationIds)) {
    say(`| ${name} | ${percentile(samples, 50).toFixed(2)} | ${percentile(samples, 99).toFixed(2)} | ${(percentile(samples, 50) / percentile(conversationIds['no conversation id']!, 50)).toFixed(2)}× |`)
  }
  mkdirSync('bench/results', { recursive: true })
  writeFileSync('bench/results/latest.md', `${lines.join('\n')}\n`)
  await client.close()
  process.exit(0)
}

async function openAndAbort(target: Target, closes: AsyncIterator<string>): Promise<number> {
  const controller = new AbortController()
  const response = await request(`${target.base}${COMPLETION}?compatibilityMode=ai-sdk-5`, { method: 'POST', dispatcher: client, headers: { 'content-type': 'application/json', ...target.headers }, body: BODY, signal: controller.signal })
  response.body.on('error', () => undefined)
  await response.body[Symbol.asyncIterator]().next()
  const abortedAt = performance.timeOrigin + performance.now()
  controller.abort()
  for (;;) {
    const next = await closes.next()
    if (next.done) throw new Error('stand-in ended')
    const line = JSON.parse(next.value) as { closedAt?: number }
    if (line.closedAt !== undefined) return line.closedAt - abortedAt
  }
}

await main()
