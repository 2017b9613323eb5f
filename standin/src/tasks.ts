import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { VerifiedUserToken } from './user-token-check.js'

/**
 * Agent Studio's tasks (Algolia's spec: paths/agents/agentTasks.yml, TaskRequest,
 * TaskResponse, TaskKind). The body is strict: `{ task?, kind?, input, configuration? }`, any
 * other top-level field is a 422 (pydantic's `extra_forbidden`). Without `stream=true` the
 * answer is `{ output }`; with it, "the raw partial JSON text stream expected by AI SDK v5
 * `useObject`: the streamed JSON is the task output itself" (the spec's words), served as
 * `text/plain`, which is what the published instantsearch.js (4.118, lib/tasks/transport.js,
 * `consumeTaskTextStream`) reads.
 * The stand-in's task answers prompt suggestions built from `input.query` (or the last user
 * message in `input.messages`).
 *
 * Newer Agent Studio streams tasks as server-sent events instead (agent-studio-api.md, "Tasks";
 * the InstantSearch task transport after 4.118, algolia/instantsearch lib/tasks/transport.ts,
 * reads `text/event-stream` chunks `{ type: "data-task-output", data }` and `{ type: "error",
 * errorText }`, and falls back to JSON for any other content type). `taskStream: 'sse'` makes
 * the stand-in answer that way: one `data-task-output` chunk per growing partial output, then
 * `data: [DONE]`. A `[cut]` in `input.query` breaks the connection after the first chunk.
 */
type Authorize = (request: FastifyRequest, reply: FastifyReply, acl: string) => Promise<VerifiedUserToken | undefined | false>
type Record_ = (request: FastifyRequest, userToken: VerifiedUserToken | undefined) => void

const FIELDS = new Set(['task', 'kind', 'input', 'configuration'])

export function taskRoutes(
  app: FastifyInstance,
  authorize: Authorize,
  record: Record_,
  agentExists: (agentId: string) => boolean,
  originRefusal: (agentId: string, headers: IncomingHttpHeaders) => string | undefined = () => undefined,
  streamFormat: 'text' | 'sse' = 'text'
): void {
  app.post<{ Params: { agentId: string }; Querystring: Record<string, string> }>('/agent-studio/1/agents/:agentId/tasks', async (request, reply) => {
    const token = await authorize(request, reply, 'search')
    if (token === false) return reply
    record(request, token)
    if (!agentExists(request.params.agentId)) return reply.code(404).send({ message: `Agent ${request.params.agentId} not found`, status: 404 })
    const refusedOrigin = originRefusal(request.params.agentId, request.headers)
    if (refusedOrigin !== undefined) return reply.code(403).send({ message: refusedOrigin, status: 403 })
    const body = request.body as Record<string, unknown> | undefined
    const problems = taskProblems(body)
    if (problems.length > 0) return reply.code(422).send({ detail: problems })
    const output = { suggestions: suggestionsFor(body!.input as Record<string, unknown>) }
    if (request.query.stream !== 'true') return { output }

    if (streamFormat === 'sse') {
      reply.hijack()
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      const cut = String((body!.input as { query?: unknown }).query ?? '').includes('[cut]')
      for (let count = 1; count <= output.suggestions.length; count++) {
        reply.raw.write(`data: ${JSON.stringify({ type: 'data-task-output', data: { output: { suggestions: output.suggestions.slice(0, count) } } })}\n\n`)
        if (cut) {
          await new Promise((resolve) => reply.raw.write('', resolve))
          reply.raw.destroy()
          return reply
        }
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      reply.raw.end('data: [DONE]\n\n')
      return reply
    }

    // The output itself as JSON text, written in pieces (what AI SDK 5's useObject reads).
    const text = JSON.stringify(output)
    reply.hijack()
    reply.raw.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' })
    const third = Math.floor(text.length / 3)
    reply.raw.write(text.slice(0, third))
    await new Promise((resolve) => setTimeout(resolve, 5))
    reply.raw.write(text.slice(third, 2 * third))
    await new Promise((resolve) => setTimeout(resolve, 5))
    reply.raw.end(text.slice(2 * third))
    return reply
  })
}

function taskProblems(body: Record<string, unknown> | undefined) {
  const problems: Array<{ loc: Array<string | number>; msg: string; type: string }> = []
  if (typeof body !== 'object' || body === null) return [{ loc: ['body'], msg: 'Input should be an object', type: 'model_type' }]
  for (const field of Object.keys(body)) {
    if (!FIELDS.has(field)) problems.push({ loc: ['body', field], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' })
  }
  if (typeof body.input !== 'object' || body.input === null || Array.isArray(body.input))
    problems.push({ loc: ['body', 'input'], msg: 'Field required', type: 'missing' })
  if (body.task !== undefined && (typeof body.task !== 'string' || body.task.length < 3 || body.task.length > 64))
    problems.push({ loc: ['body', 'task'], msg: 'String should have 3 to 64 characters', type: 'string_too_short' })
  if (body.kind !== undefined && body.kind !== 'prompt_suggestions')
    problems.push({ loc: ['body', 'kind'], msg: "Input should be 'prompt_suggestions'", type: 'enum' })
  return problems
}

function suggestionsFor(input: Record<string, unknown>): string[] {
  let topic = typeof input.query === 'string' ? input.query : ''
  if (topic === '' && Array.isArray(input.messages)) {
    const last = [...input.messages].reverse().find((m: { role?: unknown }) => m?.role === 'user') as
      { content?: unknown; parts?: Array<{ text?: unknown }> } | undefined
    topic = typeof last?.content === 'string' ? last.content : typeof last?.parts?.[0]?.text === 'string' ? String(last.parts[0].text) : ''
  }
  topic = topic.slice(0, 60) || 'this shop'
  return [`What is popular in ${topic}?`, `Compare the best ${topic}`, `Anything cheaper than ${topic}?`]
}
