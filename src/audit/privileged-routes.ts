import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ROUTES } from '../config/route-table.js'
import type { RouteSpec } from '../config/route-table.js'
import { CLIENT_CLOSED_REQUEST } from '../logging/request-summary.js'
import type { AuditAction, AuditLog, AuditOutcome } from './audit-log.js'

/**
 * The routes whose every request is a privileged action (issue 24), by method and route: the
 * route table's `audit` (src/config/route-table.ts), the one place a route says so. Tool approvals
 * are audited where they are decided (src/approvals/), one event per decision.
 */
export const PRIVILEGED_ROUTES: Readonly<Record<string, AuditAction>> = Object.fromEntries(
  ROUTES.flatMap((route: RouteSpec) => (route.audit === undefined ? [] : [[`${route.method} ${route.path}`, route.audit]]))
)

export function outcomeOf(status: number): AuditOutcome {
  if (status === CLIENT_CLOSED_REQUEST) return 'abandoned'
  if (status >= 500) return 'failed'
  if (status >= 400) return 'refused'
  return 'succeeded'
}

/**
 * One audit event per privileged request, written when its connection is done with it (so it
 * has the status the browser got), refused ones included: a request refused at the session, by
 * a limit or by Agent Studio is an attempt worth keeping.
 */
export function auditPrivilegedRoutes(app: FastifyInstance, audit: AuditLog): void {
  app.addHook('onRequest', function auditTrail(request, reply, done) {
    const action = PRIVILEGED_ROUTES[`${request.method} ${request.routeOptions.url ?? ''}`]
    if (action !== undefined) {
      reply.raw.once('close', () => {
        const status = reply.raw.headersSent ? reply.raw.statusCode : CLIENT_CLOSED_REQUEST
        const params = request.params as { agentId?: string; conversationId?: string }
        const userId = (request as FastifyRequest & { user: { id: string } | null }).user?.id
        const reason = request.summary.rule
        audit.write({
          action,
          outcome: outcomeOf(status),
          requestId: request.id,
          status,
          ...(userId === undefined ? {} : { userId }),
          ...(reason === undefined ? {} : { reason }),
          ...(params.agentId === undefined ? {} : { agentId: params.agentId }),
          ...(params.conversationId === undefined ? {} : { conversationId: params.conversationId })
        })
      })
    }
    done()
  })
}
