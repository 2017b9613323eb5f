import { SignJWT } from 'jose'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { GatewayConfig, JwtSessionConfig } from '../src/config/types.js'
import { InvalidRequest, NotFound } from '../src/errors.js'
import { buildJwtVerifier } from '../src/session/jwt-verifier.js'
import { readCredential } from '../src/session/read-credential.js'
import { CHAT_SCRIPT, chatPage } from './chat-page.js'
import { ASSET_TYPES, MISSING_BUNDLES, instantSearchPage, loginPage, readAssets, useChatPage } from './client-pages.js'

const DEMO_USER = /^[a-z0-9_-]{1,32}$/
/** Where sign-in may send the browser back to: the demo's own pages only (no open redirect). */
const DEMO_PAGES = new Set(['/', '/demo/instantsearch', '/demo/use-chat'])
// No 'unsafe-eval': zod (inside the AI SDK) probes once for eval, is refused (one CSP line in
// the console) and validates without it.
const PAGE_CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
const SESSION_HOURS = 8

/**
 * DEMO ONLY: the pages demo/main.ts hands the gateway (src/serve.ts's `plugins`), never part of
 * the gateway itself. A sign-in that trusts whoever clicks, issuing the same kind of session
 * cookie a real web app would, signed with the secret the demo generated at start.
 */
export function demoRoutes(config: GatewayConfig) {
  const session = config.session
  if (config.production || session.kind !== 'jwt' || session.key.type !== 'secret') {
    throw new Error('demo routes require the demo configuration (a generated session secret, not production)')
  }
  const secret = session.key.secret
  return async (app: FastifyInstance) => registerDemoRoutes(app, config, session, secret)
}

async function registerDemoRoutes(app: FastifyInstance, config: GatewayConfig, session: JwtSessionConfig, secret: Uint8Array) {
  const agentId = config.policy.allowedAgentIds[0]!

  // Who is signed in, for the pages to say so: the gateway's own verifier, so a page names
  // exactly the user the chat routes will see (or nobody, when they would answer 401).
  const verify = buildJwtVerifier(session)
  async function signedInUser(request: FastifyRequest): Promise<string | undefined> {
    const credential = readCredential(request.headers, session.cookieName)
    if (credential?.via !== 'cookie') return undefined
    return verify(credential.token).then(
      (verified) => verified.id,
      () => undefined
    )
  }
  const nextPage = (next: string | undefined) => {
    if (next === undefined) return '/'
    if (!DEMO_PAGES.has(next)) throw new InvalidRequest(`next must be one of ${[...DEMO_PAGES].join(', ')}`)
    return next
  }
  const html = (reply: FastifyReply, body: string) => reply.header('content-security-policy', PAGE_CSP).type('text/html; charset=utf-8').send(body)

  // ?user=… signs in at once (links, tests); without it, a page to pick a user.
  app.get<{ Querystring: { user?: string; next?: string; signedOut?: string } }>('/demo/login', async (request, reply) => {
    const next = nextPage(request.query.next)
    const user = request.query.user
    if (user === undefined) return html(reply, loginPage(await signedInUser(request), next, request.query.signedOut === '1'))
    if (!DEMO_USER.test(user)) throw new InvalidRequest('user must be 1-32 lowercase letters, digits, "-" or "_"')
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user)
      .setIssuer(session.issuer ?? 'agent-studio-gateway-demo')
      .setAudience(session.audience ?? 'agent-studio-gateway-demo')
      .setIssuedAt()
      .setExpirationTime(`${SESSION_HOURS}h`)
      .sign(secret)
    reply.header('set-cookie', `${session.cookieName}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_HOURS * 3600}`)
    return reply.redirect(next, 303)
  })

  // Sign-out is a POST (a form button on every page): a GET could be triggered by any link or
  // image. The form sends an empty urlencoded body, accepted here only (this plugin is
  // encapsulated, so the gateway's routes still answer 415 to anything but JSON).
  app.addContentTypeParser('application/x-www-form-urlencoded', { bodyLimit: 1024 }, (_request, _payload, done) => done(null, undefined))
  app.post<{ Querystring: { next?: string } }>('/demo/logout', async (request, reply) => {
    const next = nextPage(request.query.next)
    reply.header('set-cookie', `${session.cookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`)
    return reply.redirect(`/demo/login?signedOut=1&next=${encodeURIComponent(next)}`, 303)
  })

  app.get('/', async (request, reply) => html(reply, chatPage(agentId, await signedInUser(request))))

  // The real clients (InstantSearch chat widget, AI SDK useChat), bundled at build time.
  const assets = readAssets()
  const pages: Record<string, (agentId: string, user: string | undefined) => string> = {
    '/demo/instantsearch': instantSearchPage,
    '/demo/use-chat': useChatPage
  }
  for (const [path, render] of Object.entries(pages)) {
    app.get(path, async (request, reply) => html(reply, assets === undefined ? MISSING_BUNDLES : render(agentId, await signedInUser(request))))
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
