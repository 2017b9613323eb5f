import { readFileSync } from 'node:fs'

/** The variables the configuration is read from: process.env at start, a plain object in tests. */
export type Environment = Readonly<Record<string, string | undefined>>

/** Reads one variable (or its `_FILE`), recording any problem instead of throwing. */
export type ReadVariable = (name: string) => string | undefined

/** The one place that reads process.env. */
export function processEnvironment(): Environment {
  return process.env
}

/**
 * Reads NAME, or the file named by NAME_FILE (the Docker/Kubernetes secrets convention). Each
 * name is read once, so a problem with it is reported once however often it is asked for.
 */
export function environmentReader(env: Environment, problems: string[]): ReadVariable {
  const cache = new Map<string, string | undefined>()
  return function read(name: string): string | undefined {
    if (cache.has(name)) return cache.get(name)
    const direct = nonEmpty(env[name])
    const filePath = nonEmpty(env[`${name}_FILE`])
    let value = direct
    if (direct !== undefined && filePath !== undefined) {
      problems.push(`${name} and ${name}_FILE are both set: keep one`)
    } else if (filePath !== undefined) {
      try {
        value = nonEmpty(readFileSync(filePath, 'utf8').replace(/\r?\n$/, ''))
        if (value === undefined) problems.push(`${name}_FILE: ${filePath} is empty`)
      } catch (error) {
        problems.push(`${name}_FILE: cannot read ${filePath} (${errorCode(error)})`)
      }
    }
    cache.set(name, value)
    return value
  }
}

/** A blank value (empty or spaces only) counts as unset. */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}

function errorCode(error: unknown): string {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'error'
}
