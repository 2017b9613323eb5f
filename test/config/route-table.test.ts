import { readFileSync } from 'node:fs'
import t from 'tap'
import { END_MARKER, ROUTES_FILE, START_MARKER, routeTable, withRouteTable } from '../../scripts/route-table.js'
import { parseLimits } from '../../src/config/limits.js'
import { loadConfig } from '../../src/config/load-config.js'
import { ROUTE_GROUPS, ROUTES } from '../../src/config/route-table.js'
import { upstreamAclNeeds } from '../../src/keys/key-audit.js'
import { gatewayEnv } from '../helpers/fixtures.js'

// Issue 25: every route is declared once (src/config/route-table.ts), and what used to be kept
// by hand in several places is derived from it. These tests prove the derivations.

t.test('docs/frontend.md holds exactly the table the route table generates', async (t) => {
  const document = readFileSync(ROUTES_FILE, 'utf8')
  t.equal(document.split(START_MARKER).length, 2)
  t.equal(document.split(END_MARKER).length, 2)
  t.equal(document, withRouteTable(document), 'up to date: if not, run npm run docs:routes and commit docs/frontend.md')
  // A route added to the table is a new row.
  const added = [...ROUTES, { ...ROUTES[0], id: 'x', method: 'GET' as const, path: '/agent-studio/1/new/:agentId' }]
  t.not(withRouteTable(document, added), document, 'a new route makes the committed document stale')
  t.match(routeTable(added), '| `GET` | `/agent-studio/1/new/{agentId}` |')
})

t.test('each route is declared once: unique ids and unique method + path', async (t) => {
  t.equal(new Set(ROUTES.map((route) => route.id)).size, ROUTES.length)
  t.equal(new Set(ROUTES.map((route) => `${route.method} ${route.path}`)).size, ROUTES.length)
  for (const route of ROUTES) {
    if (route.group !== null) t.ok(route.group in ROUTE_GROUPS, `${route.id}: its group is a route group`)
    if (route.callsUpstream) t.match(route.upstream, /^[A-Z]+ \/1\/|^a paced job/, `${route.id}: names its upstream call`)
    else t.equal(route.acl, null, `${route.id}: calls nothing upstream, so needs no ACL`)
  }
})

t.test("the policy file's limits.routes has exactly the route groups, with their defaults", async (t) => {
  const parsed = parseLimits({}, 'test')
  if (!('limits' in parsed)) throw new Error(parsed.problems.join('; '))
  t.same(Object.keys(parsed.limits.routes).sort(), Object.keys(ROUTE_GROUPS).sort())
  for (const [group, spec] of Object.entries(ROUTE_GROUPS))
    t.same(parsed.limits.routes[group as keyof typeof ROUTE_GROUPS], spec.defaults, `${group}: its default`)
  const unknown = parseLimits({ routes: { chat: { max: 1, windowSeconds: 60 } } }, 'test')
  t.ok('problems' in unknown, 'a group the table does not have is refused')
})

t.test('the key audit asks for the ACL of every enabled route that calls upstream, tasks and compact included', async (t) => {
  const env = (extra: Record<string, string>) =>
    loadConfig(gatewayEnv(new URL('http://127.0.0.1:9/agent-studio'), extra), { defaultConfigFile: undefined }).config
  const all = upstreamAclNeeds(
    env({ ENABLE_CONVERSATIONS: 'true', ENABLE_FEEDBACK: 'true', ENABLE_USER_DATA: 'true', COMPACT_PROVIDER_ID: 'openai', COMPACT_MODEL: 'gpt-4.1-mini' })
  )
  t.same(all, [
    { acl: 'search', routes: ['completions', 'tasks', 'feedback (ENABLE_FEEDBACK)', 'compact (COMPACT_MODEL)'] },
    { acl: 'logs', routes: ['conversations (ENABLE_CONVERSATIONS)', 'userData (ENABLE_USER_DATA)'] }
  ])
  const least = upstreamAclNeeds(env({ ENABLE_CONVERSATIONS: 'false', ENABLE_FEEDBACK: 'false', ENABLE_USER_DATA: 'false' }))
  t.same(least, [{ acl: 'search', routes: ['completions', 'tasks'] }], 'with every switch off: search for chat and tasks only')
})
