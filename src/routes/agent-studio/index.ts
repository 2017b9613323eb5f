import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { GatewayConfig } from '../../config/types.js'
import type { Credentials } from '../../credentials/credentials.js'
import loadShedding from '../../plugins/load-shedding.js'
import privateAnswers from '../../plugins/private-answers.js'
import { depthBoundedJsonParser } from '../../policy/json-depth.js'
import { requestScheme } from '../../policy/origin-check.js'
import type { Authenticate } from '../../session/authenticate.js'
import type { SessionUser } from '../../session/types.js'
import type { Upstream } from '../../upstream/forward.js'
import completionRoutes from './completions.js'
import resumeRoutes from './resume.js'
import taskRoutes from './tasks.js'
import longChatRoutes from './long-chats.js'
import conversationRoutes from './conversations.js'
import feedbackRoutes from './feedback.js'
import userDataRoutes from './user-data.js'
import searchKeyRoutes from './search-key.js'
import { buildRequestLimiters } from '../../limits/request-limits.js'
import type { RequestLimiters } from '../../limits/request-limits.js'
import type { LiveLimits } from '../../limits/live-limits.js'
import type { LiveAgents } from '../../config/live-agents.js'
import type { AdmissionStore } from '../../limits/admission.js'
import type { Metrics } from '../../metrics.js'
import type { ErasureService } from '../../erasure/erasure-service.js'
import { throwIfClientGone, watchClient } from '../../plugins/client-gone.js'
import type { TokenStore } from '../../usage/token-store.js'
import type { usageMeter } from '../../usage/usage-meter.js'
import usageRoutes from './usage.js'
import type { AuditLog } from '../../audit/audit-log.js'
import { auditPrivilegedRoutes } from '../../audit/privileged-routes.js'
import type { ApprovalService } from '../../approvals/approvals.js'

declare module 'fastify' {
  interface FastifyRequest {
    user: SessionUser
  }
}

export interface AgentStudioRouteOptions {
  readonly config: GatewayConfig
  readonly authenticate: Authenticate
  /** Everything that leaves with an upstream request: each route asks it for its headers. */
  readonly credentials: Credentials
  readonly upstream: Upstream
  readonly live: LiveLimits
  /** Per-agent settings in force (upstream Origin, cache mode). */
  readonly agents: LiveAgents
  readonly admission: AdmissionStore
  readonly metrics: Metrics
  /** Erasures of user data, run as paced jobs (DELETE /user-data/me). */
  readonly erasures: ErasureService
  /** Token usage per user, agent and period (issue 24). */
  readonly tokens: TokenStore
  /** Where an answer's tokens go once it is over (log line, metrics, span, store). */
  readonly meter: ReturnType<typeof usageMeter>
  readonly tenantOf: (userId: string) => string | undefined
  /** The audit trail of privileged actions. */
  readonly audit: AuditLog
  /** Tool approval bindings: issued from the stream, checked on the browser's answer. */
  readonly approvals: ApprovalService
  /** Injectable clock (tests): names the token budgets' day and month. */
  readonly now?: () => number
}

export interface AgentStudioRouteContext extends AgentStudioRouteOptions {
  readonly limiters: RequestLimiters
}

// Each group can be switched off (an API key without the logs ACL): its routes then do not
// exist, and answer 404 like any unknown path.

/**
 * Everything the browser may reach of Agent Studio, in one encapsulated scope: its body
 * parser (JSON only), its load shedding and its session check do not leak onto /healthz.
 * Hooks run in the order the data flows: session, then policy, then the upstream call.
 */
export default async function agentStudioRoutes(app: FastifyInstance, options: AgentStudioRouteOptions) {
  const { config } = options

  await app.register(privateAnswers)
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, depthBoundedJsonParser(app.getDefaultJsonParser('error', 'error')))

  if (config.server.maxEventLoopDelayMs > 0) {
    await app.register(loadShedding, { maxEventLoopDelayMs: config.server.maxEventLoopDelayMs })
  }

  const limiters = buildRequestLimiters({ live: options.live, store: options.admission, metrics: options.metrics, tenantOf: options.tenantOf, ...(options.now === undefined ? {} : { now: options.now }) })

  app.decorateRequest('user', null as never)
  // Before the session: a privileged request refused at the session is audited too.
  auditPrivilegedRoutes(app, options.audit)
  // Session first. Failed authentications are counted per client IP (an anonymous flood, a
  // credential-stuffing run), and an address over that budget is refused before any credential
  // work; signed-in users are counted per user instead (the route hooks).
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
  })
  const context = { ...options, limiters }
  await app.register(completionRoutes, context)
  await app.register(resumeRoutes, context)
  await app.register(taskRoutes, context)
  await app.register(longChatRoutes, context)
  await app.register(usageRoutes, context)
  if (config.policy.enableConversations) await app.register(conversationRoutes, context)
  if (config.policy.enableFeedback) await app.register(feedbackRoutes, context)
  if (config.policy.enableUserData) await app.register(userDataRoutes, context)
  if (config.searchKey.enabled) await app.register(searchKeyRoutes, context)
}
