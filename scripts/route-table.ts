// The route table in docs/frontend.md, generated from the one declaration of the browser's routes
// (src/config/route-table.ts): each route's method, path, what it calls upstream, its limits'
// route group, the ACL ALGOLIA_API_KEY needs for it, its body and query, whether it streams,
// and the switch it exists under.
//
//   npx tsx scripts/route-table.ts           rewrite the part of docs/frontend.md between the markers
//   npx tsx scripts/route-table.ts --check   exit 1 when docs/frontend.md differs from what would be written
//
// (`npm run docs:routes` runs the first.) test/config/route-table.test.ts fails when the
// committed document is not what this writes.
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ROUTES } from '../src/config/route-table.js'
import type { RouteSpec } from '../src/config/route-table.js'

export const ROUTES_FILE = 'docs/frontend.md'
export const START_MARKER = '<!-- route-table:start -->'
export const END_MARKER = '<!-- route-table:end -->'

const code = (text: string) => `\`${text}\``
const STREAMS: Record<RouteSpec['stream'], string> = { always: 'yes', 'when-asked': 'with `stream=true`', never: 'no' }
const BODIES: Record<RouteSpec['body'], string> = { json: 'JSON', none: 'none', ignored: 'ignored (≤ 1 KiB)' }

/** The Markdown table, one row per route of the table, in its order. */
export function routeTable(routes: readonly RouteSpec[] = ROUTES): string {
  const rows = routes.map((route) => [
    code(route.method),
    code(route.path.replace(/:(\w+)/g, '{$1}')),
    /^[A-Z]+ \//.test(route.upstream) ? code(route.upstream) : route.upstream,
    route.group === null ? 'per-user only' : code(`limits.routes.${route.group}`),
    route.acl === null ? '–' : code(route.acl),
    BODIES[route.body],
    route.query === 'none' ? '–' : route.query,
    STREAMS[route.stream],
    route.enabledBy === 'always' ? 'always' : code(route.enabledBy)
  ])
  const header = ['method', 'path', 'upstream', 'limits', 'ACL', 'body', 'query', 'streams', 'exists with']
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`).join('\n')
}

/** The document with the generated part between the markers replaced by `routeTable()`. */
export function withRouteTable(document: string, routes: readonly RouteSpec[] = ROUTES): string {
  const start = document.indexOf(START_MARKER)
  const end = document.indexOf(END_MARKER)
  if (start === -1 || end < start || document.indexOf(START_MARKER, start + 1) !== -1)
    throw new Error(`${ROUTES_FILE} needs one ${START_MARKER} followed by one ${END_MARKER}`)
  const notice = '<!-- Generated from src/config/route-table.ts by `npm run docs:routes`: edit the route table, not this one. -->'
  return `${document.slice(0, start)}${START_MARKER}\n${notice}\n\n${routeTable(routes)}\n\n${document.slice(end)}`
}

function main(args: readonly string[]): number {
  const current = readFileSync(ROUTES_FILE, 'utf8')
  const wanted = withRouteTable(current)
  if (args.includes('--check')) {
    if (current === wanted) return 0
    process.stderr.write(`${ROUTES_FILE} is not what the route table generates: run npm run docs:routes\n`)
    return 1
  }
  if (current !== wanted) writeFileSync(ROUTES_FILE, wanted)
  process.stdout.write(`${ROUTES_FILE}: ${current === wanted ? 'already up to date' : 'route table rewritten'} (${ROUTES.length} routes)\n`)
  return 0
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.chdir(resolve(fileURLToPath(import.meta.url), '../..'))
  process.exitCode = main(process.argv.slice(2))
}
