import type { FastifyReply, FastifyRequest } from 'fastify'
import { buildTaskBodyPolicy, taskBodySchema } from '../../policy/task-body.js'
import type { TaskBody } from '../../policy/task-body.js'
import { taskQuery } from '../../policy/task-query.js'
import type { AgentStudioRouteContext, RouteImplementation } from './route-context.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The setting behind a route's own body limit, named in its 413 message. */
    bodyLimitSetting?: string
  }
}

/**
 * `POST /agent-studio/1/agents/:agentId/tasks`: a task configured on the agent (InstantSearch's
 * prompt suggestions), with everything a completion gets: session, agent allow-list, limits,
 * the header boundary, a strict body. A streamed answer (`stream=true`) is relayed unbuffered in
 * whichever form Agent Studio sends: the task's output as raw JSON text (`text/plain`, the
 * published spec, for AI SDK 5's `useObject`; no in-band error, so a broken one is ended by
 * breaking the connection) or server-sent events of `data-task-output` chunks (newer Agent
 * Studio and InstantSearch; a broken one ends with an `error` chunk).
 */
// A streamed task holds a connection like a chat answer does: it takes a stream slot (the route
// table's `stream: 'when-asked'`), asked with the other limits in one question and released
// when the response closes.
export function task(options: AgentStudioRouteContext): RouteImplementation {
  const { config, credentials, upstream, agents } = options
  const bodyPolicy = buildTaskBodyPolicy(config.policy)

  return {
    bodyLimit: config.policy.taskBodyLimitBytes,
    config: { bodyLimitSetting: 'TASK_BODY_LIMIT_BYTES' },
    schema: { body: taskBodySchema },
    handler: async (request: FastifyRequest<{ Params: { agentId: string }; Querystring: Record<string, unknown>; Body: TaskBody }>, reply: FastifyReply) => {
      const { upstreamQuery } = taskQuery(config.policy, request.query)
      const body = JSON.stringify(bodyPolicy(request.body))
      const headers = await credentials.headersFor(request, { userToken: true, jsonBody: true, origin: agents.upstreamOriginFor(request.params.agentId) })
      await upstream.forward(request, reply, {
        method: 'POST',
        path: `/1/agents/${request.params.agentId}/tasks${upstreamQuery}`,
        headers,
        body,
        // A task streamed as SSE (`data-task-output` chunks, newer Agent Studio) is relayed in whole
        // events and, if it breaks, ends with an AI SDK 5 `{ type: "error", errorText }` chunk: the
        // error chunk InstantSearch's task transport reads. Raw JSON text (the published spec) is
        // relayed as it comes and broken off if upstream breaks (it has no in-band error).
        modeFor: (contentType) => (contentType.startsWith('text/event-stream') ? 'ai-sdk-5' : undefined)
      })
    }
  }
}
