import t from 'tap'
import { NO_SHEDDING, startGateway, startStandIn } from '../helpers/gateway.js'
import { chatTurn, userTurn } from '../helpers/ai-sdk.js'
import { sharedCacheEnv } from '../helpers/policy-file.js'

// Issue 10, item 1: the gateway pinned `cache=true`, so a regenerate (the AI SDK's
// `regenerate()`, InstantSearch's `cache=false`) got the cached answer back. Since issue 23 the
// cache is used only for an agent declared `cache: shared`, so these gateways declare it.

t.test('a regenerate through the real AI SDK transport reaches upstream as cache=false and gets a fresh answer', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { ...NO_SHEDDING, ...sharedCacheEnv() } })
  const history = [userTurn('m1', 'What is a gateway?')]

  const first = await chatTurn({ gatewayUrl: gateway.url, user: 'u1', messages: history })
  t.equal(first.headers.get('x-cache'), 'MISS')
  t.equal(first.headers.get('cache-status'), 'AgentStudio; fwd=miss', "Agent Studio's cache headers pass")
  const again = await chatTurn({ gatewayUrl: gateway.url, user: 'u1', messages: history })
  t.equal(again.headers.get('x-cache'), 'HIT')
  t.equal(again.headers.get('cache-status'), 'AgentStudio; hit')
  t.equal(again.message?.id, first.message?.id, 'the same history is answered from the cache')

  const regenerated = await chatTurn({ gatewayUrl: gateway.url, user: 'u1', messages: history, trigger: 'regenerate-message' })
  t.equal(standIn.received.filter((r) => r.path.endsWith('/completions')).at(-1)!.query.cache, 'false')
  t.equal(regenerated.headers.get('x-cache'), 'MISS')
  t.equal(regenerated.headers.get('cache-status'), 'AgentStudio; fwd=bypass')
  t.not(regenerated.message?.id, first.message?.id, 'a fresh answer')
  t.same(regenerated.errors, [])
  t.match(regenerated.message?.parts, [{ type: 'step-start' }, { type: 'text', text: /^You asked: "What is a gateway\?"/ }])
})

t.test('a browser\'s cache=false is honoured; only "true" or "false" are accepted', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { ...NO_SHEDDING, ...sharedCacheEnv() } })
  const turn = await chatTurn({ gatewayUrl: gateway.url, user: 'u1', messages: [userTurn('m1', 'hi')], query: '&cache=false' })
  t.equal(turn.status, 200)
  t.equal(standIn.received.at(-1)!.query.cache, 'false')
})

t.test('with UPSTREAM_CACHE_POLICY=pinned, a regenerate still gets cache=true', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { ...NO_SHEDDING, ...sharedCacheEnv(), UPSTREAM_CACHE_POLICY: 'pinned' } })
  await chatTurn({ gatewayUrl: gateway.url, user: 'u1', messages: [userTurn('m1', 'hi')], trigger: 'regenerate-message', query: '&cache=false' })
  t.equal(standIn.received.at(-1)!.query.cache, 'true')
})

t.test('with UPSTREAM_CACHE=false, no answer is ever cached, whatever the browser asks', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: { ...NO_SHEDDING, ...sharedCacheEnv(), UPSTREAM_CACHE: 'false' } })
  await chatTurn({ gatewayUrl: gateway.url, user: 'u1', messages: [userTurn('m1', 'hi')], query: '&cache=true' })
  t.equal(standIn.received.at(-1)!.query.cache, 'false')
})
