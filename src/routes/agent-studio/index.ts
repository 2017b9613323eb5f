import type { FastifyInstance, FastifyRequest } from 'fastify'
import { enabledRoutes } from '../../config/enabled-routes.js'
import type { RouteId } from '../../config/route-table.js'
import loadShedding from '../../plugins/load-shedding.js'
import privateAnswers from '../../plugins/private-answers.js'
import { depthBoundedJsonParser } from '../../policy/json-depth.js'
import { requestScheme } from '../../policy/origin-check.js'
import type { SessionUser } from '../../session/types.js'
import { buildRequestLimiters } from '../../limits/request-limits.js'
import { throwIfClientGone, watchClient } from '../../http/client-gone.js'
import { auditPrivilegedRoutes } from '../../audit/privileged-routes.js'
import { completion } from './completions.js'
import { conversationDelete, conversationList, conversationRead } from './conversations.js'
import { feedback, feedbackChange } from './feedback.js'
import { compact } from './long-chats.js'
import { routeHooks } from './pipeline.js'
import { resume } from './resume.js'
import type { AgentStudioRouteContext, AgentStudioRouteOptions, RouteImplementation } from './route-context.js'
import { searchKey } from './search-key.js'
import { task } from './tasks.js'
import { erasureStatus, userDataErase, userDataExport } from './user-data.js'

import { usageMe } from './usage.js'

export type { AgentStudioRouteOptions } from './route-context.js'

declare module 'fastify' {
  interface FastifyRequest {
    user: SessionUser
  }
}

/** Each entry of the route table's handler (src/config/route-table.ts): one per id, or the compiler says so. */
const IMPLEMENTATIONS: Record<RouteId, (context: AgentStudioRouteContext) => RouteImplementation> = {
  completion,
  resume,
  task,
  conversationList,
  conversationRead,
  conversationDelete,
  feedback,
  feedbackChange,
  userDataExport,
  userDataErase,
  erasureStatus,
  searchKey,
  compact,
  usageMe
}

/**
 * Everything the browser may reach of Agent Studio, in one encapsulated scope: its body
 * parser (JSON only), its load shedding and its session check do not leak onto /healthz.
 * Every route comes from the route table, with the checks of pipeline.ts in their one order;
 * a route switched off is not registered and answers 404 like any unknown path.
 */
export default async function agentStudioRoutes(app: FastifyInstance, options: AgentStudioRouteOptions) {
  const { config } = options

  await app.register(privateAnswers)
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, depthBoundedJsonParser(app.getDefaultJsonParser('error', 'error')))

  // First of the scope's hooks: a privileged request refused anywhere after it (overload, session,
  // limits) is audited too.
  auditPrivilegedRoutes(app, options.audit)
  if (config.server.maxEventLoopDelayMs > 0) {
    await app.register(loadShedding, { maxEventLoopDelayMs: config.server.maxEventLoopDelayMs })
  }

  const limiters = buildRequestLimiters({
    live: options.live,
    store: options.admission,
    metrics: options.metrics,
    tenantOf: options.tenantOf,
    ...(options.now === undefined ? {} : { now: options.now })
  })

  app.decorateRequest('user', null as never)
  // The pipeline's first step. Failed authentications are counted per client IP (an anonymous
  // flood, a credential-stuffing run), and an address over that budget is refused before any
  // credential work: the limiter's two phases before a user is known. Signed-in users are
  // counted per user instead, by each route's `admission` step.
  app.decorateRequest('admission', undefined)
  app.addHook('onRequest', async function session(request: FastifyRequest, reply) {
    watchClient(request, reply)
    limiters.beforeCredentials(request, reply)
    let user: SessionUser
    try {
      // request.protocol/host: the request's own, or X-Forwarded-Proto/-Host when the peer is in TRUSTED_PROXIES.
      user = await options.authenticate(request.headers, requestScheme(request), request.host)
    } catch (error) {
      // Ops see why (expired, bad signature, missing tenant claim); the browser sees the usual 401.
      const cause = (error as { cause?: unknown }).cause
      if (cause instanceof Error) request.summary.reason = cause.message
      // Counted even when the client already left: disconnecting must not dodge the budget.
      await limiters.failedAuthentication(request, reply)
      throw error
    }
    throwIfClientGone(request)
    request.user = user
    request.summary.userId = user.id
    request.summary.sessionAtMs = reply.elapsedTime
  })

  const context: AgentStudioRouteContext = { ...options, limiters }
  const routes = enabledRoutes(config)
  const register = (scope: FastifyInstance, route: (typeof routes)[number]) => {
    const implementation = IMPLEMENTATIONS[route.id](context)
    const hooks = routeHooks(route, config.policy, limiters, implementation.checks)
    scope.route({
      method: route.method,
      url: route.path,
      // Only the table's methods: Fastify's automatic HEAD twin of a GET would run it upstream
      // (spending the budget) under a method nothing declares, and the export's past the audit
      // trail (review of issue 24).
      exposeHeadRoute: false,
      onRequest: hooks.onRequest,
      ...(hooks.preValidation.length === 0 ? {} : { preValidation: hooks.preValidation }),
      ...(hooks.preHandler.length === 0 ? {} : { preHandler: hooks.preHandler }),
      ...(implementation.schema === undefined ? {} : { schema: implementation.schema }),
      ...(implementation.bodyLimit === undefined ? {} : { bodyLimit: implementation.bodyLimit }),
      ...(implementation.config === undefined ? {} : { config: implementation.config }),
      handler: implementation.handler
    })
  }
  for (const route of routes.filter((route) => route.body !== 'ignored')) register(app, route)
  // A body that is read up to 1 KiB and ignored needs a parser of its own: Fastify's parsers
  // are per scope, not per route.
  await app.register(async function ignoredBodies(scope) {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 }, (_request, _body, done) => done(null, undefined))
    for (const route of routes.filter((route) => route.body === 'ignored')) register(scope, route)
  })
}
