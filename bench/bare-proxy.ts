// Benchmark helper: what a naive gateway costs. @fastify/http-proxy injecting the Algolia
// headers (a fixed user token) and nothing else: no session, no policy, no logging.
import proxy from '@fastify/http-proxy'
import Fastify from 'fastify'

const app = Fastify({ logger: false })
const upstream = new URL(process.env.BENCH_UPSTREAM!)
await app.register(proxy, {
  upstream: upstream.origin,
  prefix: '/agent-studio',
  rewritePrefix: '/agent-studio',
  // Raised like the gateway's pool: the default (128 per origin) stalls stream 129.
  undici: { connections: 16_384, pipelining: 1 },
  replyOptions: {
    rewriteRequestHeaders: (_request, headers) => ({
      ...headers,
      'x-algolia-application-id': process.env.BENCH_APP_ID!,
      'x-algolia-api-key': process.env.BENCH_API_KEY!,
      'x-algolia-secure-user-token': process.env.BENCH_USER_TOKEN!
    })
  }
})
const address = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`${JSON.stringify({ url: address })}\n`)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
