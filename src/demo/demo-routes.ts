import { SignJWT } from 'jose'
import type { FastifyInstance } from 'fastify'
import type { GatewayConfig } from '../config/types.js'
import { InvalidRequest, NotFound } from '../errors.js'
import { CHAT_PAGE, CHAT_SCRIPT } from './chat-page.js'
import { ASSET_TYPES, MISSING_BUNDLES, instantSearchPage, readAssets, useChatPage } from './client-pages.js'

const DEMO_USER = /^[a-z0-9_-]{1,32}$/
/** Where sign-in may send the browser back to: the demo's own pages only (no open redirect). */
const DEMO_PAGES = new Set(['/', '/demo/instantsearch', '/demo/use-chat'])
// No 'unsafe-eval': zod (inside the AI SDK) probes once for eval, is refused (one CSP line in
// the console) and validates without it.
const PAGE_CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
const SESSION_HOURS = 8

/**
 * DEMO ONLY (never registered under NODE_ENV=production: config refuses to build a demo
 * there). A sign-in that trusts whoever clicks, issuing the same kind of session cookie a
 * real web app would, signed with a secret generated at start.
 */
export default async function demoRoutes(app: FastifyInstance, { config }: { config: GatewayConfig }) {
  const session = config.session
  if (!config.demo || config.production || session.kind !== 'jwt' || session.key.type !== 'secret') {
    throw new Error('demo routes require the demo configuration')
  }
  const secret = session.key.secret
  const agentId = config.policy.allowedAgentIds[0]!

  app.get<{ Querystring: { user?: string; next?: string } }>('/demo/login', async (request, reply) => {
    const user = request.query.user ?? 'alice'
    const next = request.query.next ?? '/'
    if (!DEMO_PAGES.has(next)) throw new InvalidRequest(`next must be one of ${[...DEMO_PAGES].join(', ')}`)
    if (!DEMO_USER.test(user)) throw new InvalidRequest('user must be 1-32 lowercase letters, digits, "-" or "_"')
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user)
      .setIssuer(session.issuer ?? 'agent-studio-gateway-demo')
      .setIssuedAt()
      .setExpirationTime(`${SESSION_HOURS}h`)
      .sign(secret)
    reply.header('set-cookie', `${session.cookieName}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_HOURS * 3600}`)
    return reply.redirect(next, 303)
  })

  app.get('/demo/logout', async (_request, reply) => {
    reply.header('set-cookie', `${session.cookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`)
    return reply.redirect('/', 303)
  })

  const page = CHAT_PAGE.replace('__AGENT_ID__', agentId)
  app.get('/', async (_request, reply) => {
    reply
      .header('content-security-policy', PAGE_CSP)
      .type('text/html; charset=utf-8')
      .send(page)
  })

  // The real clients (InstantSearch chat widget, AI SDK useChat), bundled at build time.
  const assets = readAssets()
  const pages: Record<string, string> = { '/demo/instantsearch': instantSearchPage(agentId), '/demo/use-chat': useChatPage(agentId) }
  for (const [path, html] of Object.entries(pages)) {
    app.get(path, async (_request, reply) => {
      reply.header('content-security-policy', PAGE_CSP).type('text/html; charset=utf-8').send(assets === undefined ? MISSING_BUNDLES : html)
    })
  }
  app.get<{ Params: { file: string } }>('/demo/assets/:file', async (request, reply) => {
    const body = assets?.get(request.params.file)
    if (body === undefined) throw new NotFound()
    reply.type(ASSET_TYPES[request.params.file]!).header('cache-control', 'no-cache').send(body)
  })
  app.get('/demo/chat.js', async (_request, reply) => {
    reply.header('content-security-policy', "default-src 'self'").type('text/javascript; charset=utf-8').send(CHAT_SCRIPT)
  })
}
