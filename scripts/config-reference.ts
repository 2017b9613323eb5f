// The tunables' reference in docs/configuration.md, generated from the settings schema
// (src/config/settings.ts): one table per policy-file section, each row a setting's environment
// variable, its policy-file key, its default, the values it accepts and what it does.
//
//   npx tsx scripts/config-reference.ts           rewrite the part of docs/configuration.md between the markers
//   npx tsx scripts/config-reference.ts --print   print the tables only
//   npx tsx scripts/config-reference.ts --check   exit 1 when docs/configuration.md differs from what would be written
//
// (`npm run docs:config` runs the first.) test/docs/configuration-reference.test.ts fails when the
// committed document is not what this writes, so a setting cannot change without its reference.
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { z } from 'zod'
import { SETTINGS, type Setting } from '../src/config/settings.js'

export const REFERENCE_FILE = 'docs/configuration.md'
export const START_MARKER = '<!-- settings:start -->'
export const END_MARKER = '<!-- settings:end -->'

/** The part of a zod 4 schema's definition this generator reads (zod's own `_zod.def`). */
interface Def {
  readonly type: string
  readonly defaultValue?: unknown
  readonly innerType?: z.ZodType
  readonly in?: z.ZodType
  readonly out?: z.ZodType
  readonly element?: z.ZodType
  readonly options?: readonly z.ZodType[]
  readonly entries?: Readonly<Record<string, string | number>>
  readonly checks?: readonly { readonly _zod: { readonly def: CheckDef } }[]
}

interface CheckDef {
  readonly check: string
  readonly format?: string
  readonly pattern?: RegExp
  readonly value?: number
  readonly minimum?: number
  readonly maximum?: number
  readonly error?: unknown
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def
const checksOf = (def: Def): CheckDef[] => (def.checks ?? []).map((check) => check._zod.def)
/** A Markdown code span, fenced with more backticks than the text holds in a row (a pattern may hold one). */
function code(value: unknown): string {
  const text = String(value)
  const fence = '`'.repeat(Math.max(0, ...[...text.matchAll(/`+/g)].map((run) => run[0].length)) + 1)
  return fence.length === 1 ? `${fence}${text}${fence}` : `${fence} ${text} ${fence}`
}
const number = (value: number): string => value.toLocaleString('en-US')

/** A check's own message, when the schema gave it one ("agent ids are 1-128 letters, …"). */
function messageOf(check: CheckDef): string | undefined {
  const error = typeof check.error === 'function' ? (check.error as (issue: unknown) => unknown)({}) : check.error
  return typeof error === 'string' ? error : undefined
}

/** What values a setting accepts, in words, from its schema. */
export function allowedValues(schema: z.ZodType): string {
  const def = defOf(schema)
  switch (def.type) {
    case 'default':
    case 'optional':
      return allowedValues(def.innerType!)
    case 'union':
      if (def.options!.some((option) => defOf(option).type === 'boolean')) return '`true` or `false` (also `1`, `0`)'
      return def.options!.map(allowedValues).join(', or ')
    case 'enum':
      return `one of ${Object.values(def.entries!).map(code).join(', ')}`
    case 'number': {
      const checks = checksOf(def)
      const integer = checks.some((check) => check.format === 'safeint' || check.format === 'int32')
      const min = checks.find((check) => check.check === 'greater_than')?.value
      const max = checks.find((check) => check.check === 'less_than')?.value
      const range =
        min !== undefined && max !== undefined
          ? ` from ${number(min)} to ${number(max)}`
          : min !== undefined
            ? ` from ${number(min)}`
            : max !== undefined
              ? ` up to ${number(max)}`
              : ''
      return `${integer ? 'integer' : 'number'}${range}`
    }
    case 'string': {
      let words = 'text'
      for (const check of checksOf(def)) {
        const message = messageOf(check)
        if (check.check === 'string_format' && check.format === 'regex')
          words += ` matching ${code(check.pattern!.source)}${message === undefined ? '' : ` (${message})`}`
        else if (check.check === 'custom') words += message === undefined ? ', checked' : `: ${message}`
        else if (check.check === 'min_length' && check.minimum === 1) words += ', not empty'
        else if (check.check === 'min_length') words += `, at least ${number(check.minimum!)} characters`
        else if (check.check === 'max_length') words += `, at most ${number(check.maximum!)} characters`
      }
      return words
    }
    case 'pipe': {
      // list(): a string is split at commas first (a preprocess), then each item is checked.
      if (defOf(def.in!).type === 'transform') return allowedValues(def.out!)
      if (defOf(def.out!).type === 'transform') return allowedValues(def.in!)
      return allowedValues(def.out!)
    }
    case 'array': {
      const least = checksOf(def).find((check) => check.check === 'min_length')?.minimum
      return `list (comma-separated in the environment)${least === undefined ? '' : ` of at least ${least}`}, each: ${allowedValues(def.element!)}`
    }
    default:
      throw new Error(`config-reference: no words for a zod "${def.type}" schema; teach allowedValues() about it`)
  }
}

/** A default as ops read it: `2097152` (2 MiB), `2592000` (30 days), none, unset. */
export function defaultValue(setting: Setting): string {
  const def = defOf(setting.schema)
  if (def.type === 'optional') return 'unset'
  if (def.type !== 'default') throw new Error(`${setting.env}: a setting has a default or is optional`)
  const value = def.defaultValue
  if (Array.isArray(value)) return value.length === 0 ? 'none' : code(value.join(', '))
  if (value === '') return 'none'
  if (typeof value !== 'number') return code(value)
  const key = setting.path[1]
  if (key.endsWith('Bytes') && value >= 1024 && value % 1024 === 0) {
    return value % (1024 * 1024) === 0 ? `${code(value)} (${value / 1024 / 1024} MiB)` : `${code(value)} (${value / 1024} KiB)`
  }
  if (key.endsWith('Seconds') && value >= 86_400 && value % 86_400 === 0) return `${code(value)} (${value / 86_400} days)`
  if (key.endsWith('Ms') && value >= 1000 && value % 1000 === 0) return `${code(value)} (${value / 1000} s)`
  return code(value)
}

/** A Markdown table cell: a `|` would end the cell, even inside backticks. */
const cell = (text: string): string => text.replaceAll('|', '\\|')

/** The generated Markdown: one table per section of the policy file, in the schema's order. */
export function settingsReference(settings: readonly Setting[] = SETTINGS): string {
  const sections = [...new Set(settings.map((setting) => setting.path[0]))]
  return sections
    .map((section) =>
      [
        `### \`${section}\``,
        '',
        '| variable | file key | default | allowed values | what it does |',
        '|---|---|---|---|---|',
        ...settings
          .filter((setting) => setting.path[0] === section)
          .map(
            (setting) =>
              `| ${[code(setting.env), code(setting.path.join('.')), defaultValue(setting), allowedValues(setting.schema), setting.doc].map(cell).join(' | ')} |`
          )
      ].join('\n')
    )
    .join('\n\n')
}

/** The document with the generated part between the markers replaced by `settingsReference()`. */
export function withSettingsReference(document: string, settings: readonly Setting[] = SETTINGS): string {
  const start = document.indexOf(START_MARKER)
  const end = document.indexOf(END_MARKER)
  if (start === -1 || end < start || document.indexOf(START_MARKER, start + 1) !== -1) {
    throw new Error(`${REFERENCE_FILE} needs one ${START_MARKER} followed by one ${END_MARKER}`)
  }
  const notice = '<!-- Generated from src/config/settings.ts by `npm run docs:config`: edit the schema, not this table. -->'
  return `${document.slice(0, start)}${START_MARKER}\n${notice}\n\n${settingsReference(settings)}\n\n${document.slice(end)}`
}

function main(args: readonly string[]): number {
  if (args.includes('--print')) {
    process.stdout.write(`${settingsReference()}\n`)
    return 0
  }
  const current = readFileSync(REFERENCE_FILE, 'utf8')
  const wanted = withSettingsReference(current)
  if (args.includes('--check')) {
    if (current === wanted) return 0
    process.stderr.write(`${REFERENCE_FILE} is not what the settings schema generates: run npm run docs:config\n`)
    return 1
  }
  if (current !== wanted) writeFileSync(REFERENCE_FILE, wanted)
  process.stdout.write(`${REFERENCE_FILE}: ${current === wanted ? 'already up to date' : 'settings reference rewritten'} (${SETTINGS.length} settings)\n`)
  return 0
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.chdir(resolve(fileURLToPath(import.meta.url), '../..'))
  process.exitCode = main(process.argv.slice(2))
}
