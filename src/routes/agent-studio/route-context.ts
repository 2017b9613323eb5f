import type { FastifyContextConfig, FastifyReply, FastifyRequest, FastifySchema, preHandlerAsyncHookHandler } from 'fastify'
import type { GatewayConfig } from '../../config/types.js'
import type { LiveAgents } from '../../config/live-agents.js'
import type { Credentials } from '../../credentials/credentials.js'
import type { ErasureService } from '../../erasure/erasure-service.js'
import type { AdmissionStore } from '../../limits/admission.js'
import type { LiveLimits } from '../../config/live-limits.js'
import type { RequestLimiters } from '../../limits/request-limits.js'
import type { Metrics } from '../../metrics.js'
import type { Authenticate } from '../../session/authenticate.js'
import type { Upstream } from '../../upstream/forward.js'
import type { ApprovalService } from '../../approvals/approvals.js'
import type { AuditLog } from '../../audit/audit-log.js'
import type { TokenStore } from '../../usage/token-store.js'
import type { usageMeter } from '../../usage/usage-meter.js'

/** What the Agent Studio routes are built from (src/app.ts builds it). */
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

/**
 * What a route's own module supplies for its entry of the route table: its handler and what
 * only it knows (body schema, a body limit of its own, checks of the parsed body). The path,
 * method and the pipeline of checks come from the table (index.ts, pipeline.ts).
 */
export interface RouteImplementation {
  // Each handler declares its own request shape (params, query, body).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly handler: (request: FastifyRequest<any>, reply: FastifyReply) => Promise<unknown>
  readonly schema?: FastifySchema
  readonly bodyLimit?: number
  readonly config?: FastifyContextConfig
  /** Checks of the validated body, before admission when the route is admitted after validation. */
  readonly checks?: readonly preHandlerAsyncHookHandler[]
}
