import t from 'tap'
import { request } from 'undici'
import { AGENT_ID, completionBody } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { agentsFile } from '../helpers/policy-file.js'
import { postCompletion } from '../helpers/requests.js'

// Issue 23, item 2: Agent Studio's completion cache is keyed without the user (the stand-in keys
// it as documented: messages, agent configuration, tools; first message only). With memory on, a
// first answer is personal: no user may ever receive another user's cached answer.

type Setup = Awaited<ReturnType<typeof setup>>

async function setup(t: Parameters<typeof startStandIn>[0], env: Record<string, string> = {}) {
  const { standIn, url } = await startStandIn(t)
  standIn.store.memories.set('user-a', ['allergic to peanuts'])
  const gateway = await startGateway(t, url, { env })
  const client = testClient(t)
  const ask = async (user: string, body: unknown = completionBody('What should I eat tonight?'), query = '', headers: Record<string, string> = {}) => {
    const response = await postCompletion({
      gatewayUrl: gateway.url,
      dispatcher: client,
      user,
      query: `compatibilityMode=ai-sdk-5&stream=false${query}`,
      body,
      headers
    })
    return { status: response.statusCode, xCache: response.headers['x-cache'], text: await response.body.text() }
  }
  const metric = async () =>
    (await (await request(`${gateway.url}/metrics`, { dispatcher: client })).body.text())
      .split('\n')
      .filter((line) => line.startsWith('gateway_completion_cache_total') || line.startsWith('gateway_entry_points_total'))
  return { standIn, gateway, ask, metric }
}

const completions = (s: Setup) => s.standIn.received.filter((r) => r.path.endsWith('/completions'))

t.test('by default (memory on, agent not declared shared), two users asking the same first question never share an answer', async (t) => {
  const s = await setup(t)
  const a = await s.ask('user-a')
  t.equal(a.status, 200)
  t.match(a.text, /allergic to peanuts/, "user A's answer is shaped by A's memory")
  // The browser asks for the cache and for memory: it cannot turn the cache on.
  const b = await s.ask('user-b', undefined, '&cache=true&memory=true')
  t.equal(b.status, 200)
  t.notMatch(b.text, /peanuts/, "user B never receives A's answer")
  t.equal(b.xCache, 'MISS')
  t.same(
    completions(s).map((r) => r.query.cache),
    ['false', 'false'],
    'neither request read or filled the shared cache'
  )
  t.same(
    completions(s).map((r) => r.query.memory),
    [undefined, undefined],
    "memory stays the agent's own business"
  )
  t.same(await s.metric(), [`gateway_completion_cache_total{agent="${AGENT_ID}",result="off"} 2`])
})

t.test("an agent declared cache: shared keeps the cache, and the gateway's memory=false keeps every memory out of its answers", async (t) => {
  // Without the gateway's memory=false, the stand-in serves B the answer A's memory shaped
  // (standin/test/response-cache.test.ts shows it).
  const s = await setup(t, { GATEWAY_CONFIG_FILE: agentsFile({ [AGENT_ID]: { cache: 'shared' } }) })
  s.standIn.store.memories.set('user-a', ['allergic to peanuts'])
  await s.ask('user-a')
  const b = await s.ask('user-b')
  t.equal(b.xCache, 'HIT', 'a shared agent keeps the cache')
  t.notMatch(b.text, /peanuts/, 'and no memory reached the shared answer: the gateway sent memory=false')
  t.same(
    completions(s).map((r) => [r.query.cache, r.query.memory]),
    [
      ['true', 'false'],
      ['true', 'false']
    ]
  )
  t.same((await s.metric()).sort(), [
    `gateway_completion_cache_total{agent="${AGENT_ID}",result="hit"} 1`,
    `gateway_completion_cache_total{agent="${AGENT_ID}",result="miss"} 1`
  ])
})

t.test('a shared agent still never caches a request with per-request context (turnContext, searchParameters, indices)', async (t) => {
  const s = await setup(t, { GATEWAY_CONFIG_FILE: agentsFile({ [AGENT_ID]: { cache: 'shared' } }), ALLOW_SEARCH_PARAMETERS: 'true', ALLOW_INDICES: 'true' })
  const withContext = {
    messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'Which size?' }], metadata: { turnContext: { page: 'product p-1', size: 'M' } } }]
  }
  t.equal((await s.ask('user-a', withContext)).status, 200)
  t.equal((await s.ask('user-b', completionBody('Which size?', { algolia: { searchParameters: { products: { filters: 'brand:acme' } } } }))).status, 200)
  t.equal((await s.ask('user-c', completionBody('Which size?', { algolia: { indices: ['products'] } }))).status, 200)
  t.equal((await s.ask('user-d', completionBody('Which size?'))).status, 200)
  t.same(
    completions(s).map((r) => r.query.cache),
    ['false', 'false', 'false', 'true']
  )
})

t.test('AGENT_TENANT_ISOLATION with an agent declared shared is refused at start', async (t) => {
  const { url } = await startStandIn(t)
  let problems = ''
  try {
    await startGateway(t, url, {
      env: {
        AGENT_TENANT_ISOLATION: 'true',
        SEARCH_KEY_FILTERS: 'tenant_id:{tenant}',
        SESSION_TENANT_CLAIM: 'tenant',
        GATEWAY_CONFIG_FILE: agentsFile({ [AGENT_ID]: { cache: 'shared' } })
      }
    })
  } catch (error) {
    problems = ((error as { problems?: string[] }).problems ?? []).join('\n')
  }
  t.match(problems, new RegExp(`agents\\.${AGENT_ID}\\.cache: shared cannot be used with AGENT_TENANT_ISOLATION`))
})

t.test('x-algolia-referer is counted per entry point and forwarded only when valid', async (t) => {
  const s = await setup(t)
  await s.ask('user-e', undefined, '', { 'x-algolia-referer': 'ai-mode' })
  await s.ask('user-e', undefined, '', { 'x-algolia-referer': 'my-own-button' })
  await s.ask('user-e', undefined, '', { 'x-algolia-referer': 'https://evil.example/?q=secret' })
  t.same(
    completions(s).map((r) => r.headers['x-algolia-referer']),
    ['ai-mode', 'my-own-button', undefined]
  )
  const lines = (await s.metric()).filter((line) => line.startsWith('gateway_entry_points_total'))
  t.same(lines.sort(), [
    'gateway_entry_points_total{entry_point="ai-mode"} 1',
    'gateway_entry_points_total{entry_point="invalid"} 1',
    'gateway_entry_points_total{entry_point="other"} 1'
  ])
})
