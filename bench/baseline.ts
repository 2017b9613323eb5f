// Benchmark helper: an earlier commit's gateway, built in a folder of the bench's own from
// `git archive` with this checkout's node_modules, so it can run beside this one in the same run.
import { execFileSync } from 'node:child_process'
import { symlinkSync } from 'node:fs'
import { join } from 'node:path'

/** Builds `commit`'s gateway under `dir` and returns its entry point (dist/server.js). */
export function buildCommit(commit: string, dir: string): string {
  const base = join(dir, `baseline-${commit}`)
  execFileSync('bash', ['-c', `mkdir -p ${base} && git archive ${commit} src tsconfig.json tsconfig.build.json package.json | tar -x -C ${base}`])
  symlinkSync(join(process.cwd(), 'node_modules'), join(base, 'node_modules'))
  execFileSync(process.execPath, [join(process.cwd(), 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: base, stdio: 'inherit' })
  return join(base, 'dist/server.js')
}
