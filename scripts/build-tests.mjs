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
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
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

// What tap runs: .test-build/run/*.test.js. Most test files share a process in a few groups:
// every tap process costs about 3 s of CPU before the first test (tap's process info, c8's
// coverage writer, loading Fastify), three times what most files' own tests take, and the
// whole suite ran 101 processes on 2 cores. A group imports its files in order; each file's
// tests stay its own (top-level subtests with their sentences as names), and each file cleans
// up after itself as it always did. Files that change the process itself run alone: t.jobs,
// process.env, t.afterEach (which would reach the files after them), memory or event-loop
// measurements, and the browser and process tests (slow, so they run beside the groups).
const ALONE = new Set([
  'test/doctor.test.js', // t.jobs
  'test/regressions/search-key-parent-never-the-api-key.test.js', // process.env
  'standin/test/faults.test.js', // t.afterEach
  'test/regressions/bounded-upstream-reads.test.js', // RSS
  'test/regressions/load-shedding-without-descriptors.test.js', // event-loop delay
  'test/regressions/connection-flood-under-low-nofile.test.js',
  'test/regressions/clients-cannot-force-trace-sampling.test.js', // its own tracer provider (process-wide)
  'test/browser/demo-browser.test.js',
  'test/browser/examples-browser.test.js',
  'test/system/server-process.test.js',
  'test/system/fleet.test.js', // three gateway processes and nginx
  // Spawn Redis topologies of their own (cluster, sentinel, TLS): beside the groups, not inside one.
  'test/redis/redis-cluster.test.js',
  'test/redis/redis-sentinel.test.js',
  'test/redis/redis-tls-acl.test.js'
])
const GROUPS = 6
const tests = entryPoints
  .filter((path) => /^(test|standin\/test|demo\/test)\//.test(path) && path.endsWith('.test.ts'))
  .map((path) => path.replace(/\.ts$/, '.js'))
  .sort()
const run = join(out, 'run')
mkdirSync(run, { recursive: true })
const importLines = (files) => files.map((file) => `import '../${file}'\n`).join('')
const grouped = tests.filter((file) => !ALONE.has(file))
for (let group = 0; group < GROUPS; group++) {
  const files = grouped.filter((_, index) => index % GROUPS === group)
  if (files.length > 0) writeFileSync(join(run, `group-${group + 1}.test.js`), importLines(files))
}
for (const file of tests.filter((file) => ALONE.has(file))) {
  writeFileSync(join(run, `${file.replace(/^test\//, '').slice(0, -'.test.js'.length).replaceAll('/', '--')}.test.js`), importLines([file]))
}

console.log(`build-tests: ${entryPoints.length} files in ${Math.round(performance.now() - started)} ms; ${tests.length} test files in ${Math.min(GROUPS, grouped.length) + tests.length - grouped.length} processes`)
