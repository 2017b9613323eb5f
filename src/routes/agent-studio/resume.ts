import type { FastifyReply } from 'fastify'
import type { RouteImplementation } from './route-context.js'

/**
 * `GET /agent-studio/1/agents/:agentId/completions/:chatId/stream`: the AI SDK's resume probe.
 * `useChat({ resume: true })` calls it on every page load (DefaultChatTransport's
 * `reconnectToStream`, `${api}/${chatId}/stream`) and treats any answer but 204 or a stream as
 * an error. Agent Studio has no resumable streams, so the answer is always 204 "nothing to
 * resume" (vercel/ai packages/ai/src/ui/http-chat-transport.ts: `if (response.status === 204)
 * return null`), after the same session, agent and id checks as every other route, and
 * without an upstream call.
 */
export function resume(): RouteImplementation {
  return {
    // Returned, not just sent: an async handler that sends without returning the reply lets
    // Fastify try to send `undefined` after it ("Reply was already sent", an internal_error).
    handler: async (_request, reply: FastifyReply) => reply.code(204).send()
  }
}
