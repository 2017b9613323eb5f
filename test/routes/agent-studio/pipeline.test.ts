// @test-process: shared (load shedding on only so that its hook is listed; no request is sent)
import t from 'tap'
import { ROUTES } from '../../../src/config/route-table.js'
import type { RouteId } from '../../../src/config/route-table.js'
import { PIPELINE } from '../../../src/routes/agent-studio/pipeline.js'
import { startGateway } from '../../helpers/gateway.js'

// Issue 25: the order of the checks on every Agent Studio route is pinned here, from Fastify's
// own hook listing (printRoutes with hooks), not from our code's idea of it.

interface Listed {
  readonly path: string
  readonly methods: readonly string[]
  readonly hooks: Record<string, string[]>
}

/** Reads printRoutes({ includeHooks: true, commonPrefix: false }): each route with its full path and its hooks by phase. */
function readListing(listing: string): Listed[] {
  const routes: Array<Listed & { column: number }> = []
  const parents: Array<{ column: number; path: string }> = []
  for (const line of listing.split('\n')) {
    const route = /^[│ ├└─]*(?<path>\/\S*|\*) \((?<methods>[A-Z, ]+)\)$/u.exec(line)
    if (route !== null) {
      // How deep the route is nested: where its path starts on the line.
      const column = line.lastIndexOf(`${route.groups!.path!} (`)
      while (parents.length > 0 && parents.at(-1)!.column >= column) parents.pop()
      const path = (parents.at(-1)?.path ?? '') + route.groups!.path!
      routes.push({ path, methods: route.groups!.methods!.split(', '), hooks: {}, column })
      parents.push({ column, path })
      continue
    }
    const hook = /• \((?<phase>\w+)\) (?<names>\[.*\])$/u.exec(line)
    if (hook !== null) routes.at(-1)!.hooks[hook.groups!.phase!] = (JSON.parse(hook.groups!.names!) as string[]).map((name) => name.replace(/\(\)$/, ''))
  }
  return routes
}

/** Every request's first steps, on every route: the summary line, HTTP hygiene, CORS. */
const APP_HOOKS = ['summary', 'oneHostHeader', 'corsRefusals', 'handleCors']
/**
 * The Agent Studio scope's own, before each route's: the audit trail's watch (so a privileged
 * request refused anywhere after it is audited too), load shedding, then the session (PIPELINE's
 * first step).
 */
const SCOPE_HOOKS = ['auditTrail', 'shedWhenOverloaded', 'session']

/** What each route runs after the session, written out by hand so that a change of order in pipeline.ts shows here. */
const EXPECTED: Record<RouteId, { onRequest: string[]; preHandler?: string[] }> = {
  completion: { onRequest: ['agentFromPath', 'admission', 'requireJson'] },
  resume: { onRequest: ['agentFromPath', 'chatFromPath', 'admission'] },
  task: { onRequest: ['agentFromPath', 'admission', 'requireJson'] },
  conversationList: { onRequest: ['agentFromPath', 'admission'] },
  conversationRead: { onRequest: ['agentFromPath', 'conversationFromPath', 'admission'] },
  conversationDelete: { onRequest: ['agentFromPath', 'conversationFromPath', 'admission'] },
  feedback: { onRequest: ['admission', 'requireJson'] },
  feedbackChange: { onRequest: ['admission', 'requireJson'] },
  userDataExport: { onRequest: ['admission'] },
  userDataErase: { onRequest: ['admission'] },
  erasureStatus: { onRequest: ['admission'] },
  searchKey: { onRequest: ['admission'] },
  // A daily allowance: admitted only once the body is known to be one that will be sent.
  compact: { onRequest: ['requireJson'], preHandler: ['refuseChosenModel', 'admission'] },
  usageMe: { onRequest: ['admission'] }
}

t.test("every route of the table runs the pipeline's steps in the one order, as Fastify lists them", async (t) => {
  const gateway = await startGateway(t, new URL('http://127.0.0.1:9/agent-studio'), {
    listen: false,
    // Load shedding on (the default; test fixtures turn it off), so its hook is in the listing.
    env: {
      MAX_EVENT_LOOP_DELAY_MS: '1000',
      ENABLE_CONVERSATIONS: 'true',
      ENABLE_FEEDBACK: 'true',
      ENABLE_USER_DATA: 'true',
      COMPACT_PROVIDER_ID: 'openai',
      COMPACT_MODEL: 'gpt-4.1-mini'
    }
  })
  const listed = readListing(gateway.app.printRoutes({ includeHooks: true, commonPrefix: false }))
  const byRoute = (method: string, path: string) => listed.find((route) => route.path === path && route.methods.includes(method))

  for (const route of ROUTES) {
    const found = byRoute(route.method, route.path)
    if (found === undefined) {
      t.fail(`${route.method} ${route.path} is registered`)
      continue
    }
    const expected = EXPECTED[route.id]
    t.same(found.hooks.onRequest, [...APP_HOOKS, ...SCOPE_HOOKS, ...expected.onRequest], `${route.method} ${route.path}: onRequest`)
    t.same(found.hooks.preHandler ?? [], expected.preHandler ?? [], `${route.method} ${route.path}: preHandler`)
    // Issue 26: the limits asked in onRequest are waited for once the body is read, before validation.
    t.same(found.hooks.preValidation ?? [], expected.onRequest.includes('admission') ? ['admitted'] : [], `${route.method} ${route.path}: preValidation`)
    // The steps of the Agent Studio pipeline appear in PIPELINE's order (compact's admission,
    // after validation, is pinned by its preHandler above).
    const steps = (found.hooks.onRequest ?? []).filter((name) => (PIPELINE as readonly string[]).includes(name))
    t.same(
      steps,
      [...steps].sort((a, b) => PIPELINE.indexOf(a as (typeof PIPELINE)[number]) - PIPELINE.indexOf(b as (typeof PIPELINE)[number])),
      `${route.path}: in PIPELINE's order`
    )
  }

  // Nothing under /agent-studio or /search-key that the table does not declare, HEAD included.
  const declared = new Set(ROUTES.map((route) => `${route.method} ${route.path}`))
  for (const route of listed.filter((r) => r.path.startsWith('/agent-studio') || r.path === '/search-key')) {
    for (const method of route.methods) t.ok(declared.has(`${method} ${route.path}`), `${method} ${route.path} comes from the route table`)
  }

  // Every hook has a name: an anonymous() in the listing, or in a trace, says nothing.
  t.notMatch(gateway.app.printRoutes({ includeHooks: true }), /anonymous\(\)/, 'no anonymous hook on any route')
})
