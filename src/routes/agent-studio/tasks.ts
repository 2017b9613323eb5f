import type { FastifyInstance } from 'fastify'
import { buildAgentHook } from '../../policy/agent-policy.js'
import { requireJson } from '../../policy/require-json.js'
import { buildTaskBodyPolicy, taskBodySchema } from '../../policy/task-body.js'
import type { TaskBody } from '../../policy/task-body.js'
import { taskQuery } from '../../policy/task-query.js'
import type { AgentStudioRouteContext } from './index.js'

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
export default async function taskRoutes(app: FastifyInstance, options: AgentStudioRouteContext) {
  const { config, credentials, upstream, limiters, agents } = options
  const agentFromPath = buildAgentHook(config.policy)
  const bodyPolicy = buildTaskBodyPolicy(config.policy)

  app.post<{ Params: { agentId: string }; Querystring: Record<string, unknown>; Body: TaskBody }>('/agent-studio/1/agents/:agentId/tasks', {
    bodyLimit: config.policy.taskBodyLimitBytes,
    config: { bodyLimitSetting: 'TASK_BODY_LIMIT_BYTES' },
    schema: { body: taskBodySchema },
    // A streamed task holds a connection like a chat answer does: it takes a stream slot, asked
    // with the other limits in one question and released when the response closes.
    onRequest: [agentFromPath, limiters.forRoute('tasks', { stream: (request) => (request.query as { stream?: unknown }).stream === 'true' }), requireJson]
  }, async (request, reply) => {
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
  })
}
