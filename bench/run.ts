// Benchmark: the gateway AS DEPLOYED (Redis limits on, info logs, bearer session, minted user
// token, agent policy) against nginx, a bare @fastify/http-proxy, the gateway with limits off
// and talking to the Agent Studio stand-in directly, in one run, with interleaved repetitions
// (these machines drift, so only ratios measured side by side mean anything). Each phase records
// the machine's load (bench/machine.ts); a headline taken on a loaded machine is marked so and
// is not a result. Not a test: it reports, it asserts nothing except that nothing failed.
//
//   npm run bench            (BENCH_REPS=5 BENCH_SECONDS=5 for longer runs)
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Redis } from 'ioredis'
import { SignJWT } from 'jose'
import { Agent, request } from 'undici'
import { buildCommit } from './baseline.js'
import { cpuTicks, describeLoads, measured, settle } from './machine.js'
import type { PhaseLoad } from './machine.js'
import { nginxAvailable, startNginx } from './nginx.js'
import { summarise } from './profile-summary.js'

const REPS = Number(process.env.BENCH_REPS ?? 3)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200)
// Which phases to run (all by default): cpu, first-event, saturated, profile, conversation-ids, memory.
const PHASES = new Set((process.env.BENCH_PHASES ?? 'cpu,first-event,saturated,profile,conversation-ids,memory').split(','))
// How long to wait, at most, for the machine's load to fall under 1.5 before a phase.
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 90)
// Raised for the children as far as the hard limit allows: a proxy needs two descriptors per
// open stream (the browser's and the upstream's), so 10,000 streams need more than 20,000. Where
// the hard limit is lower (this machine's container: 20,000, and it cannot be raised without
// CAP_SYS_RESOURCE), the bench opens as many as fit and says so.
const NOFILE = Number(process.env.BENCH_NOFILE ?? 65_536)
const HARD_NOFILE = Number(execFileSync('/bin/sh', ['-c', 'ulimit -Hn']).toString().trim()) || NOFILE
// The gateway caps client connections at (nofile − 64) / 2 (src/connection-cap.ts): stay a few
// hundred below it, so connections still closing from the previous round never meet the cap.
const STREAMS = Number(process.env.BENCH_STREAMS ?? Math.min(10_000, Math.floor((Math.min(NOFILE, HARD_NOFILE) - 300) / 2) - 300))
const progress = (what: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${what}\n`)
const USERS = 100
const WAVE = Number(process.env.BENCH_WAVE ?? 100)
const AGENT = 'bench-agent'
const KEYS = {
  appId: 'BENCHAPP',
  apiKey: 'bench-api-key',
  keyId: 'bench-kid',
  secretKey: 'sk-alg-bench-secret',
  session: 'bench-session-secret-of-32-bytes-or-more'
}
const COMPLETION = `/agent-studio/1/agents/${AGENT}/completions`
const BODY = JSON.stringify({ messages: [{ role: 'user', content: 'What is the return policy?' }] })
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())
const DEPLOYED = 'gateway (deployed)'
const LIMITS_OFF = 'gateway, limits off'
const NGINX = 'nginx'
// BENCH_BASELINE=<commit>[,<commit>…]: those commits' gateways too, as deployed (each built in a
// folder of the bench's own from `git archive`, with this checkout's node_modules): before against
// after, in one run. The first is "before" (the paired ratio; the memory phase); the others, in
// order, measure each change on its own against the one before it, CPU per request only.
const BASELINES = (process.env.BENCH_BASELINE ?? '').split(',').filter((commit) => commit !== '')
const baselineName = (commit: string) => `gateway (deployed) at ${commit.slice(0, 7)}`
const BEFORE = BASELINES[0] === undefined ? 'none' : baselineName(BASELINES[0])
const baselineServers = new Map<string, string>()

interface Target {
  name: string
  base: string
  headers: Record<string, string>
  users?: string[]
  pid?: number
  /** The gateway's log file (its summary lines give the phase breakdown). */
  logFile?: string
}
interface Proc {
  child: ChildProcess
  lines: AsyncIterator<string>
  pid: number
  logFile?: string
}

const children: ChildProcess[] = []
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')))
const dir = mkdtempSync(join(tmpdir(), 'asg-bench-'))
if (process.env.BENCH_KEEP === undefined) process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

let logFiles = 0
/**
 * Starts a child. `ulimit -n` is raised as far as the hard limit allows (document the same for
 * deployments). With `toFile`, stdout goes to a log file, as a container runtime collects it:
 * a pipe the bench does not read while wrk runs (execFileSync) fills up, and pino then spins
 * in atomic-sleep waiting for it, which is a bench artefact, not the gateway's cost.
 */
function start(script: string, env: Record<string, string>, nodeFlags: string[] = [], toFile = false): Proc {
  // The gateway runs from its build, as `npm start` does; the helpers through tsx.
  const args = [...nodeFlags, ...(script.endsWith('.js') ? [script] : ['--import', 'tsx', script])]
  const logFile = toFile ? join(dir, `log-${logFiles++}.ndjson`) : undefined
  const out = logFile === undefined ? 'pipe' : openSync(logFile, 'w')
  const child = spawn('/bin/sh', ['-c', `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, process.execPath, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', out, 'inherit']
  })
  if (typeof out === 'number') closeSync(out)
  children.push(child)
  const lines = logFile === undefined ? createInterface({ input: child.stdout! })[Symbol.asyncIterator]() : fileLines(logFile)
  return { child, lines, pid: child.pid!, ...(logFile === undefined ? {} : { logFile }) }
}

/** The lines of a growing log file, polled (the bench only waits for the start-up line this way). */
async function* fileLines(file: string): AsyncGenerator<string> {
  let seen = 0
  for (;;) {
    const all = readFileSync(file, 'utf8').split('\n')
    const complete = all.slice(0, -1)
    for (; seen < complete.length; seen++) yield complete[seen]!
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function firstJson(proc: Proc, predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (;;) {
    const next = await proc.lines.next()
    if (next.done) throw new Error('process ended before it was ready')
    try {
      const line = JSON.parse(next.value) as Record<string, unknown>
      if (predicate(line)) return line
    } catch {
      /* not JSON */
    }
  }
}

/** Keep reading a child's stdout so its logging never blocks on a full pipe. */
function drain(proc: Proc) {
  void (async () => {
    for (let n = await proc.lines.next(); !n.done; n = await proc.lines.next());
  })()
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** A Redis of the bench's own, so its CPU per request is the gateway's alone (the shared one serves every test suite). */
async function startRedis(): Promise<{ url: string; pid: number }> {
  if (process.env.BENCH_REDIS_URL !== undefined) return { url: process.env.BENCH_REDIS_URL, pid: 0 }
  const port = await freePort()
  const child = spawn(
    '/bin/sh',
    ['-c', `ulimit -n ${NOFILE} 2>/dev/null; exec redis-server --port ${port} --bind 127.0.0.1 --save '' --appendonly no --maxclients 10000`],
    { stdio: 'ignore' }
  )
  children.push(child)
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null })
  probe.on('error', () => undefined) // refused until redis-server listens
  await probe.connect().catch(() => undefined)
  await probe.ping()
  probe.disconnect()
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid! }
}

/** Limits that never refuse (so only their cost shows), every check on: counters, stream caps, upstream budget. */
function limitsFile(enabled: boolean): string {
  const window = enabled ? '{ max: 1000000, windowSeconds: 3600 }' : '{ max: 0, windowSeconds: 60 }'
  const streams = enabled ? '{ perUser: 10000, global: 1000000 }' : '{ perUser: 0, global: 0 }'
  const path = join(dir, `limits-${enabled ? 'on' : 'off'}.yaml`)
  writeFileSync(
    path,
    `limits:\n  ip: ${window}\n  user: ${window}\n  routes:\n    completions: ${window}\n  streams: ${streams}\n  upstreamBudget: ${enabled ? '{ max: 1000000, windowSeconds: 3600, perUser: 1000000 }' : window}\n`
  )
  return path
}

async function startGateway(
  name: string,
  standInUrl: string,
  redisUrl: string | undefined,
  users: string[],
  nodeFlags: string[] = [],
  server = 'dist/server.js'
): Promise<Target & { proc: Proc }> {
  const gateway = start(
    server,
    {
      NODE_ENV: 'production',
      PORT: '0',
      LOG_LEVEL: 'info',
      ALGOLIA_APP_ID: KEYS.appId,
      ALGOLIA_API_KEY: KEYS.apiKey,
      ALGOLIA_KEY_ID: KEYS.keyId,
      ALGOLIA_SECRET_KEY: KEYS.secretKey,
      AGENT_STUDIO_URL: standInUrl,
      ALGOLIA_SEARCH_API_URL: new URL(standInUrl).origin,
      ENABLE_SEARCH_KEY: 'false',
      SESSION_JWT_SECRET: KEYS.session,
      ALLOWED_AGENT_IDS: AGENT,
      GATEWAY_CONFIG_FILE: limitsFile(redisUrl !== undefined),
      // Every client of the bench is 127.0.0.1, standing in for 10,000 browsers: the per-address
      // cap (a twentieth of the connection cap by default) would close most of them on accept.
      MAX_CONNECTIONS_PER_ADDRESS: String(STREAMS + 300),
      // A namespace per gateway: each is a deployment of its own (the bench's wrk is one user).
      ...(redisUrl === undefined ? {} : { REDIS_URL: redisUrl, REDIS_NAMESPACE: `asg-bench:${process.pid}:${name.replace(/\W+/g, '-')}:` })
    },
    nodeFlags,
    true
  )
  const base = String((await firstJson(gateway, (l) => l.msg === 'agent-studio-gateway listening')).address)
  return { name, base, headers: { authorization: `Bearer ${users[0]!}` }, users, pid: gateway.pid, proc: gateway, logFile: gateway.logFile! }
}

async function startStack(paceMs: number, redisUrl: string, withLimitsOff: boolean) {
  const userToken = await new SignJWT({ sub: 'bench-user' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: KEYS.keyId })
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(KEYS.secretKey))
  const sessions = await Promise.all(
    Array.from({ length: USERS }, (_, i) =>
      new SignJWT({ sub: `bench-user-${i}` }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('2h').sign(new TextEncoder().encode(KEYS.session))
    )
  )
  const standIn = start('bench/standin-server.ts', {
    BENCH_APP_ID: KEYS.appId,
    BENCH_API_KEY: KEYS.apiKey,
    BENCH_KEY_ID: KEYS.keyId,
    BENCH_SECRET_KEY: KEYS.secretKey,
    BENCH_PACE_MS: String(paceMs)
  })
  const standInUrl = String((await firstJson(standIn, (l) => typeof l.url === 'string')).url)
  const bare = start('bench/bare-proxy.ts', { BENCH_UPSTREAM: standInUrl, BENCH_APP_ID: KEYS.appId, BENCH_API_KEY: KEYS.apiKey, BENCH_USER_TOKEN: userToken })
  const bareUrl = String((await firstJson(bare, (l) => typeof l.url === 'string')).url)
  drain(bare)
  const targets: Target[] = [
    {
      name: 'direct',
      base: new URL(standInUrl).origin,
      headers: { 'x-algolia-application-id': KEYS.appId, 'x-algolia-api-key': KEYS.apiKey, 'x-algolia-secure-user-token': userToken }
    },
    { name: 'bare proxy', base: bareUrl, headers: {}, pid: bare.pid }
  ]
  const procs = [standIn, bare]
  if (withLimitsOff && nginxAvailable()) {
    const port = await freePort()
    const nginx = startNginx({ dir, port, upstream: new URL(standInUrl), connections: STREAMS + 200, headers: targets[0]!.headers }, (file, args) =>
      spawn('/bin/sh', ['-c', `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, file, ...args], { stdio: 'inherit' })
    )
    children.push(nginx)
    await listening(port)
    targets.splice(1, 0, { name: NGINX, base: `http://127.0.0.1:${port}`, headers: {}, pid: nginx.pid! })
    procs.push({ child: nginx, lines: (async function* () {})(), pid: nginx.pid! })
  }
  const deployed = await startGateway(DEPLOYED, standInUrl, redisUrl, sessions)
  targets.push(deployed)
  procs.push(deployed.proc)
  for (const [name, server] of baselineServers) {
    if (!withLimitsOff && name !== BEFORE) continue
    const before = await startGateway(name, standInUrl, redisUrl, sessions, [], server)
    targets.push(before)
    procs.push(before.proc)
  }
  if (withLimitsOff) {
    const off = await startGateway(LIMITS_OFF, standInUrl, undefined, sessions)
    targets.push(off)
    procs.push(off.proc)
  }
  return { standIn, standInUrl, sessions, targets, stop: () => procs.forEach((p) => p.child.kill('SIGTERM')) }
}

/** Resolves once something accepts connections on the port (nginx prints nothing when ready). */
async function listening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await request(`http://127.0.0.1:${port}/`, { dispatcher: client }).then(
      (r) => r.body.dump().then(() => true),
      () => false
    )
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`nothing listens on ${port}`)
}

/** A child's standard output, once it has exited (0), without blocking the bench's own event loop. */
function output(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    const chunks: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
    child.once('error', reject)
    child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`${file} exited with ${code}`))))
  })
}
function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1])
}

async function wrk(target: Target, seconds: number, redisPid = 0) {
  const script = join(dir, `${target.name.replace(/\W+/g, '-')}.lua`)
  const headers = { 'content-type': 'application/json', ...target.headers }
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(BODY)}\n${Object.entries(headers)
      .map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
      .join('\n')}\n`
  )
  const before = target.pid === undefined ? 0 : cpuTicks(target.pid)
  const redisBefore = redisPid === 0 ? 0 : cpuTicks(redisPid)
  const out = await output('wrk', [
    '-t1',
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    '--latency',
    '-s',
    script,
    `${target.base}${COMPLETION}?compatibilityMode=ai-sdk-5&stream=false`
  ])
  const cpu = target.pid === undefined ? 0 : cpuTicks(target.pid) - before
  const redisCpu = redisPid === 0 ? 0 : cpuTicks(redisPid) - redisBefore
  const requests = Number(/(\d+) requests in/.exec(out)![1])
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
  if (non2xx > 0) throw new Error(`${target.name}: ${non2xx} failed responses under load`)
  return {
    requests,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]),
    p99Ms: toMs(/99%\s+([\d.]+\w+)/.exec(out)![1]!),
    cpuUsPerRequest: ((cpu / CLOCK_TICKS) * 1e6) / requests,
    redisUsPerRequest: ((redisCpu / CLOCK_TICKS) * 1e6) / requests
  }
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
const spread = (xs: number[], digits = 0) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`
const client = new Agent({ connections: STREAMS + 200, pipelining: 1 })
let nextUser = 0
const headersOf = (target: Target) =>
  target.users === undefined ? target.headers : { authorization: `Bearer ${target.users[nextUser++ % target.users.length]!}` }

async function streamOnce(target: Target) {
  const started = performance.now()
  const response = await request(`${target.base}${COMPLETION}?compatibilityMode=ai-sdk-5`, {
    method: 'POST',
    dispatcher: client,
    headers: { 'content-type': 'application/json', ...headersOf(target) },
    body: BODY
  })
  let first = 0
  for await (const chunk of response.body) if (first === 0 && chunk.length > 0) first = performance.now() - started
  if (response.statusCode !== 200) throw new Error(`${target.name}: stream answered ${response.statusCode}`)
  return { firstMs: first, endMs: performance.now() - started }
}

/** The gateway's own account of the run: fail-opens, Redis failures, release retries, loop lag. */
async function gatewayMetrics(target: Target): Promise<Record<string, number>> {
  const response = await request(`${target.base}/metrics`, { dispatcher: client })
  const text = await response.body.text()
  const sum = (name: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(name))
      .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0)
  const answers = sum('gateway_redis_answer_seconds_count')
  return {
    failOpen: sum('gateway_limit_fail_open_total'),
    redisFailures: sum('gateway_redis_failures_total'),
    releaseRetries: sum('gateway_stream_release_retries_total'),
    redisAnswers: answers,
    redisAnswerMeanMs: answers === 0 ? 0 : (sum('gateway_redis_answer_seconds_sum') / answers) * 1000,
    loopLagP99Ms: sum('gateway_nodejs_eventloop_lag_p99_seconds') * 1000
  }
}

const loads: PhaseLoad[] = []
const livePids = () => children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => c.pid!)
/** A phase, after the machine has settled, with its load recorded. */
async function phase<T>(name: string, run: () => Promise<T>): Promise<T> {
  await settle(SETTLE_SECONDS)
  progress(`${name}…`)
  return measured(name, livePids, CLOCK_TICKS, run, loads)
}

type Throughput = Awaited<ReturnType<typeof wrk>>

/** CPU per request and throughput at saturation, REPS interleaved repetitions (alternating order). */
async function cpuPhase(targets: Target[], redisPid: number): Promise<Record<string, Throughput[]>> {
  for (const target of targets) await wrk(target, 1) // JITs and connection pools
  const through: Record<string, Throughput[]> = Object.fromEntries(targets.map((target) => [target.name, []]))
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 === 0 ? targets : [...targets].reverse()
    for (const target of order) through[target.name]!.push(await wrk(target, SECONDS, target.name.startsWith(DEPLOYED) ? redisPid : 0))
  }
  return through
}

/** Sequential streams, interleaved: time to first event and to the end, per target. */
async function firstEventPhase(targets: Target[]): Promise<Record<string, { first: number[]; end: number[] }>> {
  const ttfe: Record<string, { first: number[]; end: number[] }> = Object.fromEntries(targets.map((t) => [t.name, { first: [], end: [] }]))
  for (let i = 0; i < SAMPLES; i++) {
    const order = i % 2 === 0 ? targets : [...targets].reverse()
    for (const target of order) {
      const { firstMs, endMs } = await streamOnce(target)
      if (i >= 10) {
        ttfe[target.name]!.first.push(firstMs)
        ttfe[target.name]!.end.push(endMs)
      }
    }
  }
  return ttfe
}

/**
 * First event while the target is saturated (wrk -c32 of non-streaming completions on it): a
 * sequential stream every moment of each run, REPS runs per target, interleaved.
 */
async function saturatedPhase(targets: Target[]): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]))
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 === 0 ? targets : [...targets].reverse()
    for (const target of order) {
      let running = true
      const load = wrk(target, SECONDS).finally(() => (running = false))
      await new Promise((resolve) => setTimeout(resolve, 500))
      while (running) samples[target.name]!.push((await streamOnce(target)).firstMs)
      await load
    }
  }
  return samples
}

/** What one loopback round trip to this Redis costs on this machine idle: sequential PINGs, a few ms apart like the streams. */
async function loopbackRoundTrip(url: string): Promise<number[]> {
  const redis = new Redis(url)
  const samples: number[] = []
  for (let i = 0; i < 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 3))
    const started = performance.now()
    await redis.ping()
    samples.push(performance.now() - started)
  }
  redis.disconnect()
  return samples
}

type ScriptStats = Record<string, { calls: number; usec: number }>
/** Redis's own count of the scripts it ran (calls and microseconds), from INFO commandstats. */
async function scriptStats(url: string): Promise<ScriptStats> {
  const redis = new Redis(url)
  const info = await redis.info('commandstats')
  redis.disconnect()
  const stats: ScriptStats = {}
  for (const match of info.matchAll(/^cmdstat_(evalsha|eval|evalsha_ro|fcall):calls=(\d+),usec=(\d+)/gm))
    stats[match[1]!] = { calls: Number(match[2]), usec: Number(match[3]) }
  return stats
}
function diffStats(after: ScriptStats, before: ScriptStats): ScriptStats {
  return Object.fromEntries(
    Object.entries(after).map(([command, s]) => [command, { calls: s.calls - (before[command]?.calls ?? 0), usec: s.usec - (before[command]?.usec ?? 0) }])
  )
}

/** The gateway's phases (its summary lines' `phasesMs`) for the completions logged since `fromByte`. */
function phasesFromLog(logFile: string, fromByte: number): Record<string, number[]> {
  const phases: Record<string, number[]> = {}
  for (const line of readFileSync(logFile).subarray(fromByte).toString().split('\n')) {
    if (!line.includes('"phasesMs"')) continue
    const { phasesMs, route } = JSON.parse(line) as { phasesMs: Record<string, number>; route?: string }
    if (route?.endsWith('/completions') !== true) continue
    for (const [name, ms] of Object.entries(phasesMs)) (phases[name] ??= []).push(ms)
  }
  return phases
}

async function main() {
  execFileSync('npm', ['run', 'build'], { stdio: 'ignore' })
  for (const commit of BASELINES) baselineServers.set(baselineName(commit), buildCommit(commit, dir))
  const lines: string[] = []
  const say = (line = '') => {
    lines.push(line)
    process.stdout.write(`${line}\n`)
  }
  const redis = await startRedis()
  const fast = await startStack(0, redis.url, true)
  // BENCH_TARGETS="bare proxy|gateway (deployed)": only these (and direct, the reference), for a quicker look.
  const only = process.env.BENCH_TARGETS?.split('|')
  const targets = fast.targets.filter((t) => only === undefined || t.name === 'direct' || only.includes(t.name))
  const byName = (name: string) => fast.targets.find((t) => t.name === name)
  const deployed = byName(DEPLOYED)!
  const limitsOff = byName(LIMITS_OFF)!
  progress(`stack up (${targets.map((t) => t.name).join(', ')}); ${STREAMS} streams later (descriptor hard limit ${HARD_NOFILE})`)

  const through = PHASES.has('cpu') ? await phase('cpu', () => cpuPhase(targets, redis.pid)) : undefined
  const afterLoad = through === undefined || !targets.includes(deployed) ? undefined : await gatewayMetrics(deployed)

  const gateways = [deployed, limitsOff].filter((t) => targets.includes(t))
  const scriptsBefore = await scriptStats(redis.url)
  const logMarks = new Map(gateways.map((t) => [t.name, statSync(t.logFile!).size]))
  const ttfe = PHASES.has('first-event') ? await phase('first event', () => firstEventPhase(targets)) : undefined
  const roundTrip = ttfe === undefined ? undefined : await loopbackRoundTrip(redis.url)
  // The gateways write their log lines in batches, at most 250 ms late (src/logging/logger.ts).
  if (ttfe !== undefined) await new Promise((resolve) => setTimeout(resolve, 500))
  const breakdown = ttfe === undefined ? undefined : Object.fromEntries(gateways.map((t) => [t.name, phasesFromLog(t.logFile!, logMarks.get(t.name)!)]))
  const scriptsDuring = diffStats(await scriptStats(redis.url), scriptsBefore)
  const saturated = PHASES.has('saturated') ? await phase('first event at saturation', () => saturatedPhase(targets)) : undefined

  const profileRows = PHASES.has('profile') ? await phase('profile', () => profile(fast.standInUrl, redis.url, fast.sessions)) : undefined
  const conversationIds = PHASES.has('conversation-ids') ? await phase('conversation ids', () => conversationIdPhase(limitsOff)) : undefined
  fast.stop()
  // A failure here (a proxy refusing streams) is reported with the other phases' figures, not instead of them.
  let memoryFailure: unknown
  const slow = PHASES.has('memory')
    ? await phase('memory and abort', () => memoryPhase(redis.url)).catch((error: unknown) => {
        memoryFailure = error
        return undefined
      })
    : undefined

  const versions = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> }
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`
  const loaded = loads.some((l) => l.loaded)
  say(`## Results (${new Date().toISOString().slice(0, 16)}Z)${loaded ? ' — LOADED: not a result' : ''}`)
  say()
  if (loaded)
    say(
      '**The machine was not idle during at least one phase** (one-minute load ≥ 1.5 before it, or other processes using ≥ 0.3 cores during it): these figures are marked "loaded" and are not results. Run again on an idle machine.'
    )
  if (loaded) say()
  say(
    `Machine: ${execFileSync('nproc').toString().trim()} cores, open descriptors per process at most ${HARD_NOFILE} (hard limit), Node ${process.version}, fastify ${versions.dependencies.fastify}, undici ${versions.dependencies.undici}, @fastify/http-proxy ${versions.devDependencies['@fastify/http-proxy']}, ${execFileSync('redis-server', ['--version']).toString().split(' ')[2]}${nginxAvailable() ? '' : ', nginx not installed (bench/setup.sh)'}; ${REPS} interleaved repetitions of ${SECONDS} s, wrk -t1 -c${CONNECTIONS}; medians (spread). Load average (1 min) before → after each phase, and the CPU other processes used during it: ${describeLoads(loads)}.`
  )
  say()
  const mark = loaded ? ' (loaded)' : ''
  const names = targets.map((t) => t.name)
  say(`| figure${mark} | ${names.join(' | ')} | deployed ÷ bare |`)
  say(`|---|${names.map(() => '---|').join('')}---|`)
  const row = (label: string, cell: (name: string) => string, last = '') => say(`| ${label} | ${names.map(cell).join(' | ')} | ${last} |`)
  if (through !== undefined && through['bare proxy'] !== undefined && through[DEPLOYED] !== undefined) {
    const all = (name: string, key: keyof Throughput) => through[name]!.map((r) => r[key])
    const m = (name: string, key: keyof Throughput) => median(all(name, key))
    // Paired ratios: repetition i of the gateway against repetition i of the bare proxy.
    const paired = all(DEPLOYED, 'cpuUsPerRequest').map((cpu, i) => cpu / all('bare proxy', 'cpuUsPerRequest')[i]!)
    row(
      'proxy CPU per request (µs)',
      (n) => (n === 'direct' ? '–' : `${m(n, 'cpuUsPerRequest').toFixed(0)} (${spread(all(n, 'cpuUsPerRequest'))})`),
      `**${median(paired).toFixed(2)}×** (${spread(paired, 2)})`
    )
    // Each gateway against the one before it (BENCH_BASELINE's order, then this checkout): what each change did on its own.
    const chain = [...BASELINES.map(baselineName), DEPLOYED].filter((name) => through[name] !== undefined)
    if (chain.length > 1)
      row('proxy CPU per request, ÷ the gateway before it (paired)', (n) => {
        const at = chain.indexOf(n)
        if (at < 1) return '–'
        const pairedWith = all(n, 'cpuUsPerRequest').map((cpu, i) => cpu / all(chain[at - 1]!, 'cpuUsPerRequest')[i]!)
        return `${median(pairedWith).toFixed(2)}× (${spread(pairedWith, 2)})`
      })
    row('redis-server CPU per request (µs)', (n) => (n.startsWith(DEPLOYED) ? m(n, 'redisUsPerRequest').toFixed(1) : '–'))
    row('non-streaming req/s', (n) => `${m(n, 'rps').toFixed(0)} (${spread(all(n, 'rps'))})`, ratio(m(DEPLOYED, 'rps'), m('bare proxy', 'rps')))
    row('non-streaming p99 at saturation (ms)', (n) => m(n, 'p99Ms').toFixed(2), ratio(m(DEPLOYED, 'p99Ms'), m('bare proxy', 'p99Ms')))
  }
  const added = (samples: Record<string, number[]>, p: number) => (n: string) => {
    const v = percentile(samples[n]!, p)
    return n === 'direct' ? v.toFixed(2) : `${v.toFixed(2)} (+${(v - percentile(samples.direct!, p)).toFixed(2)})`
  }
  const addedRatio = (samples: Record<string, number[]>, p: number) => {
    if (samples['bare proxy'] === undefined || samples[DEPLOYED] === undefined) return ''
    const over = (n: string) => percentile(samples[n]!, p) - percentile(samples.direct!, p)
    return `added: **${ratio(over(DEPLOYED), over('bare proxy'))}**`
  }
  if (ttfe !== undefined) {
    const firsts = Object.fromEntries(Object.entries(ttfe).map(([n, v]) => [n, v.first]))
    const ends = Object.fromEntries(Object.entries(ttfe).map(([n, v]) => [n, v.end]))
    row('first event p50, idle (ms)', added(firsts, 50), addedRatio(firsts, 50))
    row('first event p99, idle (ms)', added(firsts, 99), addedRatio(firsts, 99))
    row('end of stream p50, idle (ms)', added(ends, 50))
  }
  if (saturated !== undefined) {
    row('first event p50 at saturation (ms)', added(saturated, 50), addedRatio(saturated, 50))
    row('first event p99 at saturation (ms)', added(saturated, 99), addedRatio(saturated, 99))
  }
  if (slow !== undefined) {
    const perStream = (n: string) => (slow.memory[n]!.open1 - slow.memory[n]!.before) / STREAMS
    row(
      `memory per open stream, ${STREAMS} open (KiB)`,
      (n) => (slow.memory[n] === undefined ? '–' : perStream(n).toFixed(1)),
      `**${ratio(perStream(DEPLOYED), perStream('bare proxy'))}**`
    )
    row('client abort → upstream close p50 / p99 (ms)', (n) =>
      slow.abort[n] === undefined ? '–' : `${percentile(slow.abort[n], 50).toFixed(2)} / ${percentile(slow.abort[n], 99).toFixed(2)}`
    )
    say()
    for (const name of Object.keys(slow.memory)) {
      const r = slow.memory[name]!
      say(
        `RSS of ${name} (MiB), before / ${STREAMS} open / closed / open again / closed again: ${[r.before, r.open1, r.closed1, r.open2, r.closed2].map((k) => (k / 1024).toFixed(0)).join(' / ')}`
      )
    }
  }
  say()
  if (memoryFailure !== undefined) say(`The memory and abort phase failed: ${String(memoryFailure)}`)
  if (slow?.failure !== undefined) say(`The memory and abort phase stopped at ${slow.failure}; the targets before it were measured.`)
  if (afterLoad !== undefined)
    say(
      `Deployed gateway's own count after the throughput runs (saturated): fail-opens ${afterLoad.failOpen}, Redis failures ${afterLoad.redisFailures}, release retries ${afterLoad.releaseRetries}, Redis answers ${afterLoad.redisAnswers} (mean ${afterLoad.redisAnswerMeanMs!.toFixed(2)} ms as seen by the gateway), event-loop lag p99 ${afterLoad.loopLagP99Ms!.toFixed(1)} ms.`
    )
  if (slow !== undefined)
    say(
      `After ${STREAMS} streams opened and closed twice: fail-opens ${slow.metrics.failOpen}, Redis failures ${slow.metrics.redisFailures}, release retries ${slow.metrics.releaseRetries}.`
    )
  if (breakdown !== undefined) {
    say()
    say(`Where a sequential stream's first event goes, idle${mark} (the gateways' own \`phasesMs\`, ${SAMPLES} streams each; ms p50 / p99):`)
    say()
    const phaseNames = ['session', 'admission', 'policy', 'upstream', 'relay', 'total'] as const
    say(`| gateway | ${phaseNames.join(' | ')} |`)
    say(`|---|${phaseNames.map(() => '---|').join('')}`)
    for (const [name, phases] of Object.entries(breakdown)) {
      const cell = (p: string) => (phases[p] === undefined ? '–' : `${percentile(phases[p], 50).toFixed(3)} / ${percentile(phases[p], 99).toFixed(3)}`)
      say(`| ${name} | ${phaseNames.map(cell).join(' | ')} |`)
    }
    say()
    say(
      `One loopback round trip to the same Redis (PING, one every 3 ms, idle): p50 ${percentile(roundTrip!, 50).toFixed(3)} ms, p99 ${percentile(roundTrip!, 99).toFixed(3)} ms.`
    )
    say()
    say(
      `Redis's own time per script it ran meanwhile (INFO commandstats; the admission, the stream releases, the token records): ${Object.entries(scriptsDuring)
        .map(([command, s]) => `${command} ${s.calls} calls, ${(s.usec / Math.max(1, s.calls)).toFixed(1)} µs each`)
        .join('; ')}.`
    )
  }
  if (profileRows !== undefined) {
    say()
    const busy = profileRows.rows.filter((r) => r.category !== '(idle)').reduce((s, r) => s + r.ms, 0)
    say(
      `Where the deployed gateway's CPU goes (--cpu-prof, one ${SECONDS} s wrk run, ${profileRows.requests} requests, self time; bench/results/profiles/)${mark}:`
    )
    say()
    say('| where | µs per request | share |')
    say('|---|---|---|')
    for (const r of profileRows.rows.filter((r) => r.category !== '(idle)').slice(0, 18))
      say(`| ${r.category} | ${((r.ms * 1000) / profileRows.requests).toFixed(1)} | ${((100 * r.ms) / busy).toFixed(1)} % |`)
  }
  if (conversationIds !== undefined) {
    say()
    say(`Conversation ids (issue 9), sequential non-streaming completions through the gateway, limits off${mark}:`)
    say()
    say('| request | p50 (ms) | p99 (ms) | p50 ÷ no id |')
    say('|---|---|---|---|')
    for (const [name, samples] of Object.entries(conversationIds)) {
      say(
        `| ${name} | ${percentile(samples, 50).toFixed(2)} | ${percentile(samples, 99).toFixed(2)} | ${(percentile(samples, 50) / percentile(conversationIds['no conversation id']!, 50)).toFixed(2)}× |`
      )
    }
  }
  mkdirSync('bench/results', { recursive: true })
  writeFileSync('bench/results/latest.md', `${lines.join('\n')}\n`)
  await client.close()
  process.exit(0)
}

/** Where the time goes: the deployed gateway once more, under --cpu-prof, for one wrk run. */
async function profile(standInUrl: string, redisUrl: string, sessions: string[]) {
  const profileDir = join('bench', 'results', 'profiles')
  rmSync(profileDir, { recursive: true, force: true })
  mkdirSync(profileDir, { recursive: true })
  const profiled = await startGateway('profiled', standInUrl, redisUrl, sessions, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`])
  await wrk(profiled, 1)
  const runStart = performance.now()
  const run = await wrk(profiled, SECONDS)
  const runEnd = performance.now()
  const exited = new Promise((resolve) => profiled.proc.child.once('exit', resolve))
  profiled.proc.child.kill('SIGTERM')
  await exited
  const exitAt = performance.now()
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'))!
  // Only the samples of the measured run (start-up, warm-up and shutdown left out): the
  // profile ends at exit, and both clocks are monotonic.
  const rows = summarise(JSON.parse(readFileSync(join(profileDir, file), 'utf8')), { fromEndUs: [(exitAt - runStart) * 1000, (exitAt - runEnd) * 1000] })
  return { rows, requests: run.requests }
}

/** Conversation ids (issue 9): a completion naming a conversation against one naming none; expected 1.0×. */
async function conversationIdPhase(gateway: Target): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = { 'no conversation id': [], 'new conversation id (first message)': [], 'continuing a conversation': [] }
  const timed = async (body: string) => {
    const started = performance.now()
    const response = await request(`${gateway.base}${COMPLETION}?compatibilityMode=ai-sdk-5&stream=false`, {
      method: 'POST',
      dispatcher: client,
      headers: { 'content-type': 'application/json', ...gateway.headers },
      body
    })
    await response.body.dump()
    if (response.statusCode !== 200) throw new Error(`conversation id bench: ${response.statusCode}`)
    return performance.now() - started
  }
  const withId = (id: string) =>
    JSON.stringify({ id, messages: [{ id: `m_${id}`, role: 'user', parts: [{ type: 'text', text: 'What is the return policy?' }] }] })
  await timed(withId('bench_known'))
  for (let i = 0; i < SAMPLES; i++) {
    samples['no conversation id']!.push(await timed(BODY))
    samples['new conversation id (first message)']!.push(await timed(withId(`bench_new_${process.pid}_${i}`)))
    samples['continuing a conversation']!.push(await timed(withId('bench_known')))
  }
  return samples
}

/**
 * Slow streams (first event at once, then one a minute, so none ends by itself during the
 * phase) stay open: memory per stream, flat after close, abort latency; bare proxy and gateway.
 */
async function memoryPhase(redisUrl: string) {
  const slow = await startStack(60_000, redisUrl, false)
  const memory: Record<string, { before: number; open1: number; closed1: number; open2: number; closed2: number }> = {}
  const measured = new Set(['bare proxy', DEPLOYED, BEFORE])
  const abort: Record<string, number[]> = Object.fromEntries(slow.targets.filter((t) => measured.has(t.name)).map((t) => [t.name, []]))
  const closes = slow.standIn.lines
  let metrics: Record<string, number> = {}
  let failure: string | undefined
  for (const target of slow.targets.filter((t) => measured.has(t.name))) {
    try {
      for (let i = 0; i < 20; i++) await openAndAbort(target, closes)
      const before = rssKiB(target.pid!)
      const round = async () => {
        const controllers: AbortController[] = []
        // Opened in waves of 100 (browsers do not all connect in the same millisecond; a burst of
        // 10,000 SYNs overflows the listen backlog of any server, the bare proxy's included, and
        // 500 at once kept the gateway's event loop busy past its load-shedding threshold here).
        for (let opened = 0; opened < STREAMS; opened += WAVE) {
          await Promise.all(
            Array.from({ length: Math.min(WAVE, STREAMS - opened) }, async () => {
              const controller = new AbortController()
              controllers.push(controller)
              const response = await request(`${target.base}${COMPLETION}?compatibilityMode=ai-sdk-5`, {
                method: 'POST',
                dispatcher: client,
                headers: { 'content-type': 'application/json', ...headersOf(target) },
                body: BODY,
                signal: controller.signal
              })
              if (response.statusCode !== 200)
                throw new Error(`${target.name}: stream answered ${response.statusCode} ${await response.body.text()} with ${controllers.length} open`)
              const iterator = response.body[Symbol.asyncIterator]()
              await iterator.next()
              response.body.on('error', () => undefined)
              response.body.resume()
            })
          )
        }
        const open = rssKiB(target.pid!)
        controllers.forEach((c) => c.abort())
        const deadline = Date.now() + 300_000
        for (let n = 0; n < STREAMS; n++) {
          if (Date.now() > deadline) throw new Error(`${target.name}: only ${n} of ${STREAMS} upstream streams closed after the clients left`)
          await closes.next()
        }
        return { open, closed: rssKiB(target.pid!) }
      }
      progress(`${target.name}: opening ${STREAMS} streams`)
      const first = await round()
      const second = await round()
      memory[target.name] = { before, open1: first.open, closed1: first.closed, open2: second.open, closed2: second.closed }
      for (let i = 0; i < 100; i++) abort[target.name]!.push(await openAndAbort(target, closes))
      if (target.name === DEPLOYED) metrics = await gatewayMetrics(target)
    } catch (error) {
      // Its streams may still be open: the targets after it would be measured among them. Those before it stand.
      failure = `${target.name}: ${String(error)}`
      delete abort[target.name]
      break
    }
  }
  slow.stop()
  return { memory, abort, metrics, failure }
}

async function openAndAbort(target: Target, closes: AsyncIterator<string>): Promise<number> {
  const controller = new AbortController()
  const response = await request(`${target.base}${COMPLETION}?compatibilityMode=ai-sdk-5`, {
    method: 'POST',
    dispatcher: client,
    headers: { 'content-type': 'application/json', ...headersOf(target) },
    body: BODY,
    signal: controller.signal
  })
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
