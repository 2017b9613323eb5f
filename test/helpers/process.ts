import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export interface GatewayProcess {
  readonly child: ChildProcessWithoutNullStreams
  readonly lines: Array<Record<string, unknown>>
  /** stderr, for start-up failures. */
  readonly stderr: () => string
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Resolves with the first JSON log line that matches. */
  waitForLine(predicate: (line: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>
}

export interface SpawnOptions {
  /** Run under this soft and hard descriptor limit (`ulimit -n`), as a small container would. */
  readonly nofile?: number
  /** The program: the gateway's entry point (default), or the demo's (`demo/main.ts`, what `npm start` runs). */
  readonly entry?: 'src/server.ts' | 'demo/main.ts'
}

/**
 * The command line that runs a program of src/ (`src/server.ts`) as the tests themselves run: the
 * JavaScript that scripts/build-tests.mjs compiled beside them when they run from .test-build/
 * (`npm test`), else the TypeScript through tsx (`npx tap test/<name>.test.ts`).
 */
export function nodeCommand(entry: string): string[] {
  const compiled = import.meta.url.endsWith('.js') // this helper runs from .test-build/
  return compiled ? [process.execPath, join('.test-build', entry.replace(/\.ts$/, '.js'))] : [process.execPath, '--import', 'tsx', entry]
}

/** Runs src/server.ts in its own process, exactly as `npm start` would (from the tests' build, or through tsx). */
export function spawnGateway(env: Record<string, string | undefined>, options: SpawnOptions = {}): GatewayProcess {
  const node = nodeCommand(options.entry ?? 'src/server.ts')
  // The shell lowers the limit for itself, then becomes node (exec), which inherits it.
  const [command, ...args] = options.nofile === undefined ? node : ['/bin/sh', '-c', `ulimit -n ${options.nofile} && exec "$@"`, 'sh', ...node]
  const child = spawn(command!, args, {
    env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
    stdio: ['pipe', 'pipe', 'pipe']
  })
  const lines: Array<Record<string, unknown>> = []
  const waiters: Array<{ predicate: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }> = []
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk.toString()))
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line: Record<string, unknown>
    try {
      line = JSON.parse(text) as Record<string, unknown>
    } catch {
      return
    }
    lines.push(line)
    for (const waiter of [...waiters]) {
      if (waiter.predicate(line)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(line)
      }
    }
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal }))
  )
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    // Generous: on a busy shared 2-core machine a tsx start-up alone can take over 15 s. It only bounds a hang.
    waitForLine(predicate, ms = 30_000) {
      const found = lines.find(predicate)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching log line within ${ms} ms; stderr: ${stderr}`)), ms)
        waiters.push({
          predicate,
          resolve: (line) => {
            clearTimeout(timer)
            resolve(line)
          }
        })
        void exited.then(() => reject(new Error(`gateway exited; stderr: ${stderr}`)))
      })
    }
  }
}
