import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const made: string[] = []
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})

/**
 * A fresh folder in the system temp directory, removed when the test process exits (files a
 * gateway still watches or re-reads stay valid until then). Tests leave nothing behind.
 */
export function tempDir(prefix = 'asg-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}
