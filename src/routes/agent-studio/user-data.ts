import type { FastifyReply, FastifyRequest } from 'fastify'
import { ROUTES } from '../../config/route-table.js'
import { ErasureIncomplete, ErasureNotFound, InvalidId, RedisUnavailable } from '../../errors.js'
import type { ErasureState } from '../../erasure/erasure-store.js'
import { conversationNamespace } from '../../policy/conversation-namespace.js'
import { userDataForClient } from '../../policy/conversation-mapping.js'
import type { AgentStudioRouteContext, RouteImplementation } from './route-context.js'

/*
 * Export and erasure of the caller's own data. The only path is `/me`: the user id comes from
 * the session, never from the URL, so no path can name anyone else.
 */

function userIdOf(request: FastifyRequest): string {
  const userId = request.user.id
  // encodeURIComponent keeps "/" and "?" inside the segment; dot segments would still move up a level.
  if (userId === '.' || userId === '..') throw new InvalidId('user id of this session cannot name a data export ("." and ".." are path steps)')
  return userId
}

export function userDataExport({ credentials, upstream, agents }: AgentStudioRouteContext): RouteImplementation {
  return {
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const userId = userIdOf(request)
      const namespace = conversationNamespace(userId)
      await upstream.forward(request, reply, {
        method: 'GET',
        path: `/1/user-data/${encodeURIComponent(userId)}`,
        headers: await credentials.headersFor(request, { userToken: true, jsonBody: false, origin: agents.upstreamOriginFor(undefined) }),
        rewriteJson: (answer) => {
          const { body, hidden } = userDataForClient(namespace, answer)
          if (hidden > 0) request.summary.conversationsHidden = hidden
          return body
        }
      })
    }
  }
}

/**
 * Erasure (issue 20): starts the caller's erasure, a paced job apart from this request (src/erasure/),
 * or joins the one already running. Answered with its outcome when it ends within
 * ERASURE_ANSWER_WAIT_MS (a user with little data), else `202 Accepted` with its progress and the
 * status URL to poll; leaving does not stop it.
 */
export function userDataErase(options: AgentStudioRouteContext): RouteImplementation {
  return {
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const userId = userIdOf(request)
      const { state, job } = await storeAnswer(() => options.erasures.start(request.user))
      const ended = job === undefined ? undefined : await Promise.race([job, delay(ERASURE_ANSWER_WAIT_MS)])
      const now = ended ?? (await storeAnswer(() => options.erasures.status(userId))) ?? state
      request.summary.conversationsDeleted = now.conversationsDeleted
      if (now.status === 'running') {
        return reply.code(202).header('location', ERASURE_STATUS_PATH).header('cache-control', 'no-store').send(publicState(now))
      }
      if (now.status === 'failed') {
        // The usual error body, plus what was done, so a frontend can say so and retry.
        throw new ErasureIncomplete(`${now.conversationsDeleted} conversations deleted, messages ${now.messagesDeleted ? 'deleted' : 'not deleted'}`, {
          cause: new Error(now.failures.join('; ')),
          publicFields: { conversationsDeleted: now.conversationsDeleted, messagesDeleted: now.messagesDeleted, memoriesDeleted: false }
        })
      }
      return reply
        .code(200)
        .header('cache-control', 'no-store')
        .send({ conversationsDeleted: now.conversationsDeleted, messagesDeleted: now.messagesDeleted, memoriesDeleted: false })
    }
  }
}

/**
 * The caller's erasure: running (with its progress), done or failed; 404 when none was started.
 * Polled by the browser: only the per-user limit applies, not userData's (20 a minute would
 * refuse a poll every 2 s): the route table gives it no route group.
 */
export function erasureStatus(options: AgentStudioRouteContext): RouteImplementation {
  return {
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const state = await storeAnswer(() => options.erasures.status(userIdOf(request)))
      if (state === undefined) throw new ErasureNotFound()
      return reply.header('cache-control', 'no-store').send(publicState(state))
    }
  }
}

/** Where the browser polls its erasure (the 202's `location` and `statusUrl`): the route table's. */
const ERASURE_STATUS_PATH = ROUTES.find((route) => route.id === 'erasureStatus')!.path
/** How long DELETE waits for a small erasure to end before answering 202. */
const ERASURE_ANSWER_WAIT_MS = 2000

/** The erasures' store (Redis) could not answer: a 503 the browser may retry, never a 500. */
async function storeAnswer<T>(ask: () => Promise<T>): Promise<T> {
  try {
    return await ask()
  } catch (error) {
    throw new RedisUnavailable({ cause: error, retryAfterSeconds: 5 })
  }
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(resolve, ms, undefined).unref())
}

/** What the browser sees of an erasure: its progress, never another user's anything. */
function publicState(state: ErasureState) {
  return {
    status: state.status,
    conversationsDeleted: state.conversationsDeleted,
    messagesDeleted: state.messagesDeleted,
    memoriesDeleted: false,
    failures: state.failures.length,
    startedAt: state.startedAt,
    updatedAt: state.updatedAt,
    statusUrl: ERASURE_STATUS_PATH
  }
}
