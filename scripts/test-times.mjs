#!/usr/bin/env node
// Per-file timing of the test suite, which `npm test` cannot show (a process runs a folder's
// files): runs every compiled test file (or those whose path contains an argument) alone, one at
// a time, as plain node without tap's runner or coverage, and prints its wall time and CPU (its
// own and its children's: browsers, Redis servers, gateway processes), slowest first, with the
// load average before each. Run `npm run build:tests` first. Usage: node scripts/test-times.mjs [part-of-path ...]
import { execFileSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

const build = '.test-build'
const files = []
const walk = (dir) => {
  for (const entry of readdirSync(join(build, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory() && !entry.isSymbolicLink()) walk(path)
    else if (path.endsWith('.test.js')) files.push(path)
  }
}
for (const dir of ['test', 'standin/test', 'demo/test']) {
  try {
    walk(dir)
  } catch {
    /* no such folder */
  }
}
const wanted = process.argv.slice(2)
const rows = []
for (const file of files.sort().filter((file) => wanted.length === 0 || wanted.some((part) => file.includes(part)))) {
  const load = loadavg()[0].toFixed(2)
  let status = 'ok'
  let times = ''
  try {
    // bash's `time` counts the CPU of the children the test waited for.
    times = execFileSync(
      'bash',
      ['-c', `TIMEFORMAT='%R %U %S'; { time node --enable-source-maps "$0" >/dev/null 2>&1 || echo FAILED >&2; } 2>&1`, join(build, file)],
      { encoding: 'utf8' }
    )
  } catch (error) {
    times = String(error.stdout ?? '')
  }
  if (times.includes('FAILED')) status = 'FAILED'
  const [wall, user, system] = times.trim().split('\n').at(-1).split(' ').map(Number)
  rows.push({ file, wall, cpu: user + system, load, status })
  process.stderr.write('.')
}
process.stderr.write('\n')
rows.sort((a, b) => b.wall - a.wall)
console.log('wall s\tCPU s\tload\tfile')
for (const row of rows) console.log(`${row.wall.toFixed(2)}\t${row.cpu.toFixed(2)}\t${row.load}\t${row.file}${row.status === 'ok' ? '' : `\t${row.status}`}`)
const sum = (key) => rows.reduce((total, row) => total + row[key], 0).toFixed(1)
console.log(`${rows.length} files: ${sum('wall')} s wall, ${sum('cpu')} s CPU in all`)
