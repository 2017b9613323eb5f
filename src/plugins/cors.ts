import cors from '@fastify/cors'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { PolicyConfig } from '../config/types.js'
import { recordRefusal } from '../error-handler.js'
import type { CorsRefusal } from '../logging/request-summary.js'
import { isSameOrigin, requestScheme } from '../policy/origin-check.js'

/** Response headers a browser script may read (CORS hides everything else). */
// ratelimit, ratelimit-policy: what is left of the token budgets (issue 24), for the page to show.
const EXPOSED_HEADERS = [
  'x-request-id',
  'retry-after',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'ratelimit',
  'ratelimit-policy',
  'x-vercel-ai-ui-message-stream',
  'x-vercel-ai-data-stream',
  'x-cache',
  'cache-status'
]
// PATCH: a changed vote (PATCH /agent-studio/1/feedback, issue 23).
const METHODS = ['GET', 'POST', 'PATCH', 'DELETE']

/**
 * CORS with credentials for ALLOWED_ORIGINS only (@fastify/cors), and refusals that explain
 * themselves. A browser enforces CORS silently: the server answers a preflight 204 either way
 * and the page only sees "TypeError: Failed to fetch". So each refusal is named in the
 * request's log line: `cors` (the rule) and the offending `origin`, `header` or `method`.
 * Header *names* and origins only, never values.
 */
async function corsPolicy(app: FastifyInstance, { policy }: { policy: PolicyConfig }) {
  const origins = new Set(policy.allowedOrigins)
  const headers = new Set(policy.corsAllowedHeaders)
  app.addHook('onRequest', async function corsRefusals(request) {
    const origin = request.headers.origin
    if (origin === undefined) return
    const refusal = corsRefusal(request, origin, origins, headers)
    if (refusal === undefined) return
    request.summary.cors = refusal
    // A preflight has no other outcome: the refusal is its rule. An actual request keeps its
    // own rule (session, CSRF, …); the browser will hide its answer from the page either way.
    if (isPreflight(request)) recordRefusal(request, refusal.rule)
  })
  // After the hook above: @fastify/cors answers preflights in its own onRequest hook, which
  // ends the hook chain.
  await app.register(cors, {
    origin: [...policy.allowedOrigins],
    credentials: true,
    methods: METHODS,
    allowedHeaders: [...policy.corsAllowedHeaders],
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600
  })
}

/** What the browser will refuse, with the origin and the header name or method it refuses (names only, never values). */
function corsRefusal(request: FastifyRequest, origin: string, origins: ReadonlySet<string>, headers: ReadonlySet<string>): CorsRefusal | undefined {
  const preflight = isPreflight(request)
  // Same-origin requests carry Origin on POST/DELETE but need no CORS permission.
  if (!origins.has(origin) && !(!preflight && isSameOrigin(origin, requestScheme(request), request.host))) return { rule: 'cors_origin_not_allowed', origin }
  if (!preflight) return undefined
  const method = String(request.headers['access-control-request-method'])
  if (!METHODS.includes(method)) return { rule: 'cors_method_not_allowed', origin, method }
  const asked = request.headers['access-control-request-headers']
  if (typeof asked !== 'string') return undefined
  for (const name of asked.split(',')) {
    const header = name.trim().toLowerCase()
    if (header.length > 0 && !headers.has(header)) return { rule: 'cors_header_not_allowed', origin, header }
  }
  return undefined
}

function isPreflight(request: FastifyRequest): boolean {
  return request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined
}

export default fp(corsPolicy, { name: 'cors-policy', dependencies: ['request-summary'] })
