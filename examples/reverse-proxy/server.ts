/**
 * Example: one origin for everything. The app (or its dev server) serves the page and passes
 * `/agent-studio/*` on to the gateway, so the browser talks to a single origin: no CORS, and
 * the app's own host-only session cookie is enough.
 *
 * The catch: a proxy that rewrites `Host` to the gateway's (a dev server's `changeOrigin:
 * true`, nginx's default `proxy_pass`) makes the page's `Origin` look foreign to the gateway,
 * which refuses cookie requests from foreign origins (CSRF): `403 origin_not_allowed`. So
 * this proxy sends the public host in `X-Forwarded-Host` (and the scheme in
 * `X-Forwarded-Proto`), and the gateway believes them from TRUSTED_PROXIES only.
 *
 * This stands in for your app server or dev server. Run it with
 * `npx tsx examples/reverse-proxy/server.ts` (see README.md).
 */
import { readFileSync } from 'node:fs'
import proxy from '@fastify/http-proxy'
import Fastify from 'fastify'
import { SignJWT } from 'jose'

export interface AppSettings {
  /** Where the proxy reaches the gateway, e.g. http://gateway.internal:3000 (not public). */
  gatewayUrl: string
  agentId: string
  /** Shared with the gateway (its SESSION_JWT_SECRET). */
  sessionSecret: string
}

const page = readFileSync(new URL('./dist/page.js', import.meta.url))

export async function createApp(settings: AppSettings) {
  const app = Fastify()

  await app.register(proxy, {
    upstream: settings.gatewayUrl,
    prefix: '/agent-studio',
    rewritePrefix: '/agent-studio',
    replyOptions: {
      // Like `changeOrigin: true`, @fastify/http-proxy sends the gateway's own Host; tell the
      // gateway which host and scheme the browser used.
      rewriteRequestHeaders: (request, headers) => ({
        ...headers,
        'x-forwarded-host': request.headers.host ?? '',
        'x-forwarded-proto': request.protocol
      })
    }
  })

  app.get<{ Querystring: { user?: string } }>('/login', async (request, reply) => {
    const user = /^[a-z0-9-]{1,32}$/.test(request.query.user ?? '') ? request.query.user! : 'alice'
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user)
      .setIssuedAt()
      .setExpirationTime('8h')
      .sign(new TextEncoder().encode(settings.sessionSecret))
    // Host-only is fine here: the browser only ever talks to this origin.
    reply.header('set-cookie', `session=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=28800`)
    return reply.redirect('/', 303)
  })

  app.get('/', async (_request, reply) => {
    reply.type('text/html; charset=utf-8').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Reverse proxy example</title></head>
<body data-agent-id="${settings.agentId}">
<h1>Chat (same origin, through a reverse proxy)</h1><p><a href="/login?user=alice">Sign in as alice</a></p>
<div id="app"></div><script src="/page.js"></script></body></html>`)
  })
  app.get('/page.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(page))
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const settings: AppSettings = {
    gatewayUrl: process.env.GATEWAY_URL ?? 'http://127.0.0.1:3000',
    agentId: process.env.AGENT_ID ?? 'demo-agent',
    sessionSecret: process.env.SESSION_JWT_SECRET ?? ''
  }
  if (settings.sessionSecret.length < 32) throw new Error("set SESSION_JWT_SECRET (the same value as the gateway's, at least 32 bytes)")
  const app = await createApp(settings)
  const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 8082) })
  console.log(`app listening on ${address}`)
}
