#!/usr/bin/env node
// Compiles the TypeScript that `npm test` runs (src/, test/, standin/, demo/, scripts/*.ts, examples/*/server.ts) to plain
// JavaScript with source maps, once, into .test-build/ (git-ignored), so each test process starts
// on plain node instead of loading a TypeScript loader (about a second of CPU per test file).
// c8 maps the coverage back to src/*.ts through the source maps.
//
// .test-build/ mirrors the repository at the same depth, so a path a module builds from its own
// location (`new URL('../../web/dist/demo/', import.meta.url)`, an example's `./dist/page.js`)
// lands on the real file: every entry of a compiled folder that is not compiled itself (fixtures,
// dist/, README) is a symlink to the original.
// Files are found by glob, so a new or moved file needs no change here.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const OUT = '.test-build'
const out = join(root, OUT)

/** Folders whose TypeScript runs under test, and which files in them are compiled. */
const ROOTS = ['src', 'test', 'standin', 'demo', 'examples', 'scripts']
const compiled = (path) => /\.ts$/.test(path) && !path.endsWith('.d.ts') && !(path.startsWith('examples/') && !path.endsWith('/server.ts'))
/** Never mirrored: git's, the packages (found from .test-build/ by walking up) and build outputs. */
const SKIP_AT_TOP = new Set(['.git', 'node_modules', OUT, 'coverage', '.tap'])

const started = performance.now()
rmSync(out, { recursive: true, force: true }) // a moved or deleted file leaves no stale copy behind

const entryPoints = []
const walk = (dir) => {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) walk(path)
    else if (compiled(path)) entryPoints.push(path)
  }
}
for (const dir of ROOTS) walk(dir)

await build({
  absWorkingDir: root,
  entryPoints,
  outdir: OUT,
  outbase: '.',
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  sourcemap: 'linked',
  tsconfig: 'tsconfig.json',
  logLevel: 'warning'
})

// Mirror what was not compiled: in the top folder and in every folder that received a .js.
const mirror = (dir, skip) => {
  const target = join(out, dir)
  mkdirSync(target, { recursive: true })
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (skip.has(entry.name) || existsSync(join(out, path))) {
      if (entry.isDirectory() && existsSync(join(out, path)) && dir !== '') mirror(path, new Set())
      continue
    }
    if (entry.isFile() && compiled(path)) continue
    symlinkSync(relative(target, join(root, path)), join(target, entry.name))
  }
}
mirror('', SKIP_AT_TOP)
for (const dir of ROOTS) mirror(dir, new Set())

// What tap runs: .test-build/run/*.test.js, one process per folder of tests (test/README.md).
// Every tap process costs about 1.5 s of CPU before its first test (tap's process info, c8's
// coverage, loading Fastify and src/), more than most files' own tests, so a process holds a whole
// folder: test/<folder>/ and everything under it (test/routes/agent-studio/ is in test/routes/'s),
// test/regressions/, the files directly in test/, standin/test/, demo/test/. A folder with fewer
// than MIN_FILES files shares its process with the next folders (in alphabetical order) until the
// process holds MIN_FILES; a folder of more than MAX_FILES is cut into consecutive runs of files.
// A group imports its files in order; each file's tests stay its own (top-level subtests with their
// sentences as names), and each file cleans up after itself.
//
// A file that changes the process it runs in, or that is slow, says so in its first lines:
//   // @test-process: alone (why)   its own process (and it is started first: alone files are the slow ones)
//   // @test-process: shared (why)  it does something below but leaves the process as it found it
// The check below fails the build when a file does one of these things without either line. There
// is no list of files here: a new file anywhere under test/ runs, in its folder's process.
const MIN_FILES = 12
const MAX_FILES = 30
/** What makes a file need a declaration: it reaches the whole process, or it is slow (child processes, browsers). */
export const PROCESS_CHANGES = [
  [/process\.env(\.\w+|\[[^\]]+\])\s*=(?!=)|delete\s+process\.env|Object\.assign\(\s*process\.env/, 'assigns process.env'],
  [/\bt\.jobs\s*=/, 'sets t.jobs'],
  [/\bt\.(afterEach|beforeEach)\(/, 't.afterEach/t.beforeEach (at the top level it reaches the files after it)'],
  [/registerInstrumentations|NodeTracerProvider|TRACING_ENABLED|\bpropagation\.setGlobal|\btrace\.setGlobal/, 'a tracer provider (process-wide)'],
  [
    /memoryUsage|monitorEventLoopDelay|resourceUsage|cpuUsage|MAX_EVENT_LOOP_DELAY_MS['"]?\s*:\s*['"]?[1-9]/,
    'measures the process (memory, event loop, CPU; load shedding on)'
  ],
  [/process\.(on|once|off|emit|removeAllListeners|setMaxListeners|chdir|exitCode|kill\(\s*process\.pid)\b/, 'process-wide listeners, signals or state'],
  [/setGlobalDispatcher|Error\.stackTraceLimit/, 'process-wide undici or V8 settings'],
  [/launchBrowser|chromium/i, 'starts a browser'],
  [/(?<![\w.])(spawn|spawnSync|spawnGateway|fork|exec|execSync|execFile|execFileSync)\(|promisify\(\s*execFile\b/, 'starts a child process'],
  [/redis-server|\b(privateRedis|startRedis|startCluster|startSentinel|startTlsRedis|twoReplicas)\(/, 'starts Redis servers of its own']
]
const DECLARATION = /^\/\/ @test-process: (alone|shared) \((.+)\)\s*$/m

/** The declaration of a test file (in its first 10 lines), and what in it would need one. */
export function processNeeds(source) {
  const head = source.split('\n').slice(0, 10).join('\n')
  const declared = DECLARATION.exec(head)
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .map((line) => line.replace(/(^|[^:'"`\\])\/\/.*$/, '$1')) // comments may name what the code does not do
    .join('\n')
  const reasons = PROCESS_CHANGES.filter(([pattern]) => pattern.test(code)).map(([, reason]) => reason)
  return { declared: declared?.[1], why: declared?.[2], reasons }
}

/** The folder that decides a test file's process: test/<first folder>, or test/ itself, or standin/test, demo/test. */
export const folderOf = (path) => {
  const parts = path.split('/')
  if (parts[0] !== 'test') return parts.slice(0, 2).join('/')
  return parts.length > 2 ? `test/${parts[1]}` : 'test'
}

const tests = entryPoints.filter((path) => /^(test|standin\/test|demo\/test)\//.test(path) && path.endsWith('.test.ts')).sort()
const problems = []
const alone = []
const byFolder = new Map()
for (const path of tests) {
  const { declared, reasons } = processNeeds(readFileSync(join(root, path), 'utf8'))
  if (declared === undefined && reasons.length > 0) problems.push(`${path}: ${reasons.join('; ')}`)
  const file = path.replace(/\.ts$/, '.js')
  if (declared === 'alone') alone.push(file)
  else byFolder.set(folderOf(path), [...(byFolder.get(folderOf(path)) ?? []), file])
}
if (problems.length > 0) {
  console.error(
    `build-tests: these test files change the process they run in (or start others) and do not say so.\n` +
      `Add, in their first lines, "// @test-process: alone (why)" to run in a process of their own, or\n` +
      `"// @test-process: shared (why)" if they leave the process as they found it (test/README.md):\n  ${problems.join('\n  ')}`
  )
  process.exit(1)
}

// Consecutive folders (alphabetical) fill a process up to MIN_FILES; a big folder is cut in runs of at most MAX_FILES.
const groups = []
let open = null
for (const [folder, files] of [...byFolder].sort(([a], [b]) => a.localeCompare(b))) {
  if (files.length > MAX_FILES) {
    const parts = Math.ceil(files.length / MAX_FILES)
    const size = Math.ceil(files.length / parts)
    for (let part = 0; part < parts; part++) groups.push({ name: `${folder}-${part + 1}`, files: files.slice(part * size, (part + 1) * size) })
    continue
  }
  if (open === null || open.files.length >= MIN_FILES) groups.push((open = { name: folder, files: [] }))
  else open.name += `+${folder.replace(/^test\//, '')}`
  open.files.push(...files)
}
const run = join(out, 'run')
mkdirSync(run, { recursive: true })
const importLines = (files) => files.map((file) => `import '../${file}'\n`).join('')
const runName = (name) =>
  name
    .replace(/^test(\/|$)/, '')
    .replace(/\.test\.js$/, '')
    .replaceAll('/', '--') || 'top'
// tap starts files in the order of their names: the longest first (longest processing time first
// keeps the 4 slots busy to the end instead of leaving one long process to finish alone). How long
// a process takes is read from tap's own results of the last run (.tap/test-results/, kept by tap
// between runs, absent in a fresh clone); without them, an alone file counts as 10 s (they are the
// slow ones) and a group as a second per file.
const lastTimes = new Map()
for (const dir of ['.tap/test-results/.test-build/run']) {
  let entries = []
  try {
    entries = readdirSync(join(root, dir))
  } catch {}
  // Oldest first, so the newest result of a process (numbered differently in earlier runs) wins.
  const byAge = entries.map((entry) => ({ entry, at: statSync(join(root, dir, entry)).mtimeMs })).sort((a, b) => a.at - b.at)
  for (const { entry } of byAge) {
    const time = /# time=([\d.]+)ms\s*$/.exec(readFileSync(join(root, dir, entry), 'utf8'))
    if (time !== null) lastTimes.set(entry.replace(/^\d+-/, '').replace(/\.tap$/, ''), Number(time[1]))
  }
}
const expected = (name, guess) => lastTimes.get(`${runName(name)}.test.js`) ?? guess
const processes = [
  ...alone.map((file) => ({ name: file, files: [file], ms: expected(file, 10_000) })),
  ...groups.map(({ name, files }) => ({ name, files, ms: expected(name, files.length * 1000) }))
].sort((a, b) => b.ms - a.ms)
let order = 0
for (const { name, files } of processes) writeFileSync(join(run, `${String(++order).padStart(2, '0')}-${runName(name)}.test.js`), importLines(files))

console.log(
  `build-tests: ${entryPoints.length} files in ${Math.round(performance.now() - started)} ms; ${tests.length} test files in ${alone.length + groups.length} processes (${alone.length} alone, ${groups.length} by folder)`
)
