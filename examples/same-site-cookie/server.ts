/**
 * Example: the app on https://app.example.com, the gateway on https://chat.example.com.
 * Same site, different origins: the app's session cookie reaches the gateway when it is set
 * with `Domain=example.com` (a host-only cookie is never sent to chat.example.com), and the
 * gateway lists the app's origin in ALLOWED_ORIGINS.
 *
 * This stands in for your web app: it signs users in (trusting anyone, for the example) and
 * serves the chat page. Run it with `npx tsx examples/same-site-cookie/server.ts` (see README.md).
 */
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import { SignJWT } from 'jose'

export interface AppSettings {
  /** The gateway's public URL, e.g. https://chat.example.com */
  gatewayUrl: string
  agentId: string
  /** Shared with the gateway (its SESSION_JWT_SECRET): the gateway verifies what the app signs. */
  sessionSecret: string
  /** The parent domain both hosts share, e.g. example.com */
  cookieDomain: string
  /** `true` behind https (always in production). */
  secureCookie: boolean
}

const page = readFileSync(new URL('./dist/page.js', import.meta.url))

export function createApp(settings: AppSettings) {
  const app = Fastify()

  app.get<{ Querystring: { user?: string } }>('/login', async (request, reply) => {
    const user = /^[a-z0-9-]{1,32}$/.test(request.query.user ?? '') ? request.query.user! : 'alice'
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user)
      .setIssuedAt()
      .setExpirationTime('8h')
      .sign(new TextEncoder().encode(settings.sessionSecret))
    // Domain= makes the cookie go to every host of the site, the gateway's included.
    // HttpOnly: page scripts never see it. SameSite=Lax: sent on same-site requests only.
    const secure = settings.secureCookie ? '; Secure' : ''
    reply.header('set-cookie', `session=${token}; Domain=${settings.cookieDomain}; Path=/; HttpOnly; SameSite=Lax; Max-Age=28800${secure}`)
    return reply.redirect('/', 303)
  })

  app.get('/', async (_request, reply) => {
    reply.type('text/html; charset=utf-8').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Same-site cookie example</title></head>
<body data-gateway-url="${settings.gatewayUrl}" data-agent-id="${settings.agentId}">
<h1>Chat (same-site cookie)</h1><p><a href="/login?user=alice">Sign in as alice</a></p>
<div id="app"></div><script src="/page.js"></script></body></html>`)
  })
  app.get('/page.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(page))
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const settings: AppSettings = {
    gatewayUrl: process.env.GATEWAY_URL ?? 'http://chat.example.test:3000',
    agentId: process.env.AGENT_ID ?? 'demo-agent',
    sessionSecret: process.env.SESSION_JWT_SECRET ?? '',
    cookieDomain: process.env.COOKIE_DOMAIN ?? 'example.test',
    secureCookie: process.env.SECURE_COOKIE === 'true'
  }
  if (settings.sessionSecret.length < 32) throw new Error("set SESSION_JWT_SECRET (the same value as the gateway's, at least 32 bytes)")
  const address = await createApp(settings).listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 8080) })
  console.log(`app listening on ${address}; open it through its public name, e.g. http://app.${settings.cookieDomain}:${new URL(address).port}`)
}
