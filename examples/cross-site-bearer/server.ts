/**
 * Example: the app on https://shop.example.net, the gateway on https://chat.example.com: two
 * different sites. Current browsers do not send cookies on cross-site requests (third-party
 * cookies are blocked, `SameSite=None; Secure` included), so the page sends a short-lived
 * bearer token instead, which it gets from the app's own backend. The gateway lists the app's
 * origin in ALLOWED_ORIGINS (so the page may read the answer).
 *
 * This stands in for your web app: its own session is a first-party cookie (never sent to the
 * gateway), and `/api/chat-token` turns that session into a five-minute token the gateway
 * verifies. Run it with `npx tsx examples/cross-site-bearer/server.ts` (see README.md).
 */
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import { SignJWT, jwtVerify } from 'jose'

export interface AppSettings {
  /** The gateway's public URL, e.g. https://chat.example.com */
  gatewayUrl: string
  agentId: string
  /** Shared with the gateway (its SESSION_JWT_SECRET); or sign with a private key and give the gateway SESSION_JWT_PUBLIC_KEY. */
  chatTokenSecret: string
  /** Signs the app's own session cookie; the gateway never sees it. */
  appSessionSecret: string
}

const page = readFileSync(new URL('./dist/page.js', import.meta.url))
const CHAT_TOKEN_SECONDS = 300

export function createApp(settings: AppSettings) {
  const app = Fastify()
  const appKey = new TextEncoder().encode(settings.appSessionSecret)
  const chatKey = new TextEncoder().encode(settings.chatTokenSecret)

  app.get<{ Querystring: { user?: string } }>('/login', async (request, reply) => {
    const user = /^[a-z0-9-]{1,32}$/.test(request.query.user ?? '') ? request.query.user! : 'alice'
    const session = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(user).setExpirationTime('8h').sign(appKey)
    reply.header('set-cookie', `app_session=${session}; Path=/; HttpOnly; SameSite=Lax; Max-Age=28800`)
    return reply.redirect('/', 303)
  })

  // The app's session (first-party cookie) in, a short-lived token for the gateway out.
  app.post('/api/chat-token', async (request, reply) => {
    const cookie = /(?:^|;\s*)app_session=([^;]+)/.exec(request.headers.cookie ?? '')?.[1]
    const user =
      cookie === undefined
        ? undefined
        : await jwtVerify(cookie, appKey).then(
            (result) => result.payload.sub,
            () => undefined
          )
    if (user === undefined) return reply.code(401).send({ error: 'signed_out' })
    const expiresAt = Math.floor(Date.now() / 1000) + CHAT_TOKEN_SECONDS
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(user).setIssuedAt().setExpirationTime(expiresAt).sign(chatKey)
    reply.header('cache-control', 'no-store').send({ token, expiresAt })
  })

  app.get('/', async (_request, reply) => {
    reply.type('text/html; charset=utf-8').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cross-site bearer example</title></head>
<body data-gateway-url="${settings.gatewayUrl}" data-agent-id="${settings.agentId}">
<h1>Chat (cross-site, bearer token)</h1><p><a href="/login?user=alice">Sign in as alice</a></p>
<div id="app"></div><script src="/page.js"></script></body></html>`)
  })
  app.get('/page.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(page))
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const settings: AppSettings = {
    gatewayUrl: process.env.GATEWAY_URL ?? 'http://chat.example.test:3000',
    agentId: process.env.AGENT_ID ?? 'demo-agent',
    chatTokenSecret: process.env.SESSION_JWT_SECRET ?? '',
    appSessionSecret: process.env.APP_SESSION_SECRET ?? crypto.randomUUID()
  }
  if (settings.chatTokenSecret.length < 32) throw new Error("set SESSION_JWT_SECRET (the same value as the gateway's, at least 32 bytes)")
  const address = await createApp(settings).listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 8081) })
  console.log(`app listening on ${address}; open it through its public name, e.g. http://shop.test:${new URL(address).port}`)
}
