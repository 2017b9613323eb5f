import type { FastifyInstance, FastifyRequest } from 'fastify'
import { InvalidId } from '../../errors.js'
import { buildAgentHook } from '../../policy/agent-policy.js'
import { MAX_CLIENT_CONVERSATION_ID_LENGTH, isClientConversationId } from '../../policy/conversation-namespace.js'
import type { AgentStudioRouteContext } from './index.js'

/**
 * `GET /agent-studio/1/agents/:agentId/completions/:chatId/stream`: the AI SDK's resume probe.
 * `useChat({ resume: true })` calls it on every page load (DefaultChatTransport's
 * `reconnectToStream`, `${api}/${chatId}/stream`) and treats any answer but 204 or a stream as
 * an error. Agent Studio has no resumable streams, so the answer is always 204 "nothing to
 * resume" (vercel/ai packages/ai/src/ui/http-chat-transport.ts: `if (response.status === 204)
 * return null`), after the same session, agent and id checks as every other route, and
 * without an upstream call.
 */
const CHAT_ID_MESSAGE = `chat id is not valid: ids are 1 to ${MAX_CLIENT_CONVERSATION_ID_LENGTH} letters, digits, "-" or "_", starting with a letter or digit`

export default async function resumeRoutes(app: FastifyInstance, options: AgentStudioRouteContext) {
  const agentFromPath = buildAgentHook(options.config.policy)
  const chatFromPath = async (request: FastifyRequest) => {
    // The chat id is the browser's conversation id: the same rule as everywhere else.
    if (!isClientConversationId((request.params as { chatId?: unknown }).chatId)) throw new InvalidId(CHAT_ID_MESSAGE)
  }
  app.get('/agent-studio/1/agents/:agentId/completions/:chatId/stream', {
    onRequest: [agentFromPath, chatFromPath, options.limiters.forRoute(undefined, { upstream: false })]
  }, async (_request, reply) => {
    // Returned, not just sent: an async handler that sends without returning the reply lets
    // Fastify try to send `undefined` after it ("Reply was already sent", an internal_error).
    return reply.code(204).send()
  })
}
