import underPressure from '@fastify/under-pressure'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { GatewayConfig } from '../../config/types.js'
import type { UserTokenMinter } from '../../credentials/user-token.js'
import { Overloaded, UnsupportedMediaType } from '../../errors.js'
import type { Authenticate } from '../../session/authenticate.js'
import type { SessionUser } from '../../session/types.js'
import type { Upstream } from '../../upstream/forward.js'
import completionRoutes from './completions.js'

declare module 'fastify' {
  interface FastifyRequest {
    user: SessionUser
  }
}

export interface AgentStudioRouteOptions {
  readonly config: GatewayConfig
  readonly authenticate: Authenticate
  readonly minter: UserTokenMinter
  readonly upstream: Upstream
}

const JSON_CONTENT_TYPE = /^application\/json\s*(;|$)/i

/**
 * Everything the browser may reach of Agent Studio, in one encapsulated scope: its body
 * parser (JSON only), its load shedding and its session check do not leak onto /healthz.
 * Hooks run in the order the data flows: session, then policy, then the upstream call.
 */
export default async function agentStudioRoutes(app: FastifyInstance, options: AgentStudioRouteOptions) {
  const { config } = options

  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))

  if (config.server.maxEventLoopDelayMs > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: config.server.maxEventLoopDelayMs,
      customError: Overloaded,
      retryAfter: 5
    })
  }

  app.decorateRequest('user', null as never)
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const user = await options.authenticate(request.headers)
    request.user = user
    request.summary.userId = user.id
  })
  // Bodies are JSON or nothing: checked before a byte of the body is read.
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (request.method === 'POST' && !JSON_CONTENT_TYPE.test(request.headers['content-type'] ?? '')) {
      throw new UnsupportedMediaType()
    }
  })

  await app.register(completionRoutes, options)
}
