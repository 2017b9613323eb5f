import { createHmac } from 'node:crypto'
import t from 'tap'
import type { Test } from 'tap'
import { searchClient } from '@algolia/client-search'
import { AGENT_ID, TEST_KEYS, completionBody, sessionToken } from '../helpers/fixtures.js'
import { sharedGateways, startGateway, startStandIn } from '../helpers/gateway.js'
import { tempDir } from '../helpers/temp-dir.js'
import { quoteFilterValue, renderFilters } from '../../src/config/filter-template.js'

/** Decodes a Secured API Key and checks its HMAC against the parent, independently of the code under test. */
function decodeSecuredKey(key: string, parent: string) {
  const decoded = Buffer.from(key, 'base64').toString('utf8')
  const mac = decoded.slice(0, 64)
  const query = decoded.slice(64)
  return { macValid: createHmac('sha256', parent).update(query).digest('hex') === mac, restrictions: Object.fromEntries(new URLSearchParams(query)), query }
}

// One stand-in and gateway per configuration for the whole file; each test gets them with no
// recorded requests and no log lines.
const gatewayFor = sharedGateways(t)

async function setup(_t: Test, env: Record<string, string> = {}) {
  const { standIn, gateway } = await gatewayFor({
    SEARCH_KEY_INDICES: 'products,articles',
    SEARCH_KEY_FILTERS: 'tenant_id:{tenant} AND visibility:public',
    ...env
  })
  const ask = async (claims: Record<string, unknown> | undefined, user = 'user-1') =>
    gateway.app.inject({
      method: 'POST',
      url: '/search-key',
      headers: claims === undefined ? {} : { authorization: `Bearer ${await sessionToken(user, { claims })}` }
    })
  return { standIn, gateway, ask }
}

t.test("POST /search-key returns a Secured API Key derived from the search key, with the user's restrictions", async (t) => {
  const { ask } = await setup(t)
  const before = Math.floor(Date.now() / 1000)
  const response = await ask({ tenant: 'acme' })
  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'private, no-store')
  const body = response.json() as { appId: string; apiKey: string; validUntil: number; indices: string[] }
  t.same(Object.keys(body).sort(), ['apiKey', 'appId', 'indices', 'validUntil'])
  t.equal(body.appId, TEST_KEYS.appId)
  t.same(body.indices, ['products', 'articles'])
  t.ok(body.validUntil >= before + 3600 && body.validUntil <= before + 3601, 'valid for SEARCH_KEY_TTL (1 h)')

  const { macValid, restrictions } = decodeSecuredKey(body.apiKey, TEST_KEYS.searchKey)
  t.ok(macValid, 'the HMAC verifies with the parent search key')
  t.notOk(decodeSecuredKey(body.apiKey, TEST_KEYS.apiKey).macValid, 'and not with the agent API key')
  t.same(restrictions, {
    validUntil: String(body.validUntil),
    userToken: 'user-1',
    restrictIndices: 'products,articles',
    filters: 'tenant_id:"acme" AND visibility:public'
  })

  const official = searchClient(TEST_KEYS.appId, 'unused')
  const remaining = official.getSecuredApiKeyRemainingValidity({ securedApiKey: body.apiKey })
  t.ok(remaining > 3590 && remaining <= 3600, `the official client agrees: ${remaining} s left`)
  t.notMatch(response.body, new RegExp(TEST_KEYS.searchKey), 'the parent key never leaves the gateway')
})

t.test('the request body does not matter: none, empty JSON, {} or text', async (t) => {
  const { gateway } = await setup(t)
  const authorization = `Bearer ${await sessionToken('u', { claims: { tenant: 'acme' } })}`
  for (const [headers, payload] of [
    [{}, undefined],
    [{ 'content-type': 'application/json' }, ''],
    [{ 'content-type': 'application/json' }, '{}'],
    [{ 'content-type': 'text/plain' }, 'hello']
  ] as const) {
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/search-key',
      headers: { authorization, ...headers },
      ...(payload === undefined ? {} : { payload })
    })
    t.equal(response.statusCode, 200, JSON.stringify(headers))
  }
  const large = await gateway.app.inject({
    method: 'POST',
    url: '/search-key',
    headers: { authorization, 'content-type': 'application/json' },
    payload: JSON.stringify({ x: 'y'.repeat(2000) })
  })
  t.equal(large.statusCode, 413, 'but it is not a place to upload anything')
  t.match(large.json().message, /larger than the 1024 bytes/)
})

t.test('a crafted claim cannot widen the filter', async (t) => {
  const { ask } = await setup(t)
  const attacks = [
    'acme OR tenant_id:other',
    'acme" OR tenant_id:"other',
    'acme\\" OR tenant_id:\\"other',
    '(acme) OR (tenant_id:other)',
    'acme AND NOT visibility:public',
    '" OR "" = "',
    'a\\'
  ]
  for (const tenant of attacks) {
    const response = await ask({ tenant })
    t.equal(response.statusCode, 200, tenant)
    const { restrictions } = decodeSecuredKey((response.json() as { apiKey: string }).apiKey, TEST_KEYS.searchKey)
    t.equal(restrictions.filters, `tenant_id:${quoteFilterValue(tenant)} AND visibility:public`, tenant)
    // The whole claim is one quoted value: outside the quotes, only what the template wrote.
    const outside = restrictions.filters!.replace(/"(?:[^"\\]|\\.)*"/g, '""')
    t.equal(outside, 'tenant_id:"" AND visibility:public', `${tenant}: nothing escapes its quotes`)
  }
})

t.test('filter templates render claims as single quoted values', async (t) => {
  t.same(renderFilters('tenant_id:{tenant}', { tenant: 'a"b\\c' }), { filters: 'tenant_id:"a\\"b\\\\c"' })
  t.same(renderFilters('org:{org} AND level:{level}', { org: 'x', level: 3 }), { filters: 'org:"x" AND level:"3"' })
  t.same(renderFilters('tenant_id:{tenant}', {}), { missingClaim: 'tenant' })
  t.same(renderFilters('tenant_id:{tenant}', { tenant: ['a', 'b'] }), { missingClaim: 'tenant' })
  t.same(renderFilters('tenant_id:{tenant}', { tenant: 'line\nbreak' }), { missingClaim: 'tenant' })
})

t.test('a session without the claim the filters need gets no key at all', async (t) => {
  const { ask } = await setup(t)
  const response = await ask({})
  t.equal(response.statusCode, 403)
  t.same(response.json(), {
    error: 'search_key_unavailable',
    message: 'No search key can be issued for this session: it lacks the claim "tenant" the search restrictions need.',
    requestId: response.headers['x-request-id']
  })
})

t.test('no session: 401, and no key', async (t) => {
  const { ask } = await setup(t)
  const response = await ask(undefined)
  t.equal(response.statusCode, 401)
  t.equal(response.json().error, 'session_required')
  t.notOk(response.headers['x-ratelimit-limit'] === undefined, 'counted like any unauthenticated request')
})

t.test('rate-limited like other authenticated routes', async (t) => {
  const { writeFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  const file = join(tempDir('asg-'), 'gateway.yaml')
  writeFileSync(file, 'limits:\n  routes:\n    searchKey: { max: 2, windowSeconds: 60 }\n')
  const { ask } = await setup(t, { GATEWAY_CONFIG_FILE: file })
  t.equal((await ask({ tenant: 'a' })).statusCode, 200)
  t.equal((await ask({ tenant: 'a' })).statusCode, 200)
  const third = await ask({ tenant: 'a' })
  t.equal(third.statusCode, 429)
  t.equal(third.json().error, 'rate_limited')
})

t.test('ENABLE_SEARCH_KEY=false removes the route', async (t) => {
  const { ask } = await setup(t, { ENABLE_SEARCH_KEY: 'false' })
  t.equal((await ask({ tenant: 'a' })).statusCode, 404)
})

t.test("tenant isolation: the agent receives a per-user Secured API Key with the user's restrictions", async (t) => {
  const { standIn, url } = await startStandIn(t, { acceptSecuredKeysFrom: [TEST_KEYS.apiKey] })
  const gateway = await startGateway(t, url, {
    listen: false,
    env: { AGENT_TENANT_ISOLATION: 'true', SEARCH_KEY_INDICES: 'products', SEARCH_KEY_FILTERS: 'tenant_id:{tenant}' }
  })
  const send = async (tenant: string) =>
    gateway.app.inject({
      method: 'POST',
      url: `/agent-studio/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await sessionToken('user-7', { claims: { tenant } })}` },
      payload: completionBody()
    })
  const response = await send('acme OR tenant_id:other')
  t.equal(response.statusCode, 200, 'the stand-in accepted the secured key')
  const seen = standIn.received.at(-1)!
  t.not(seen.headers['x-algolia-api-key'], TEST_KEYS.apiKey, 'the plain API key is not what the agent searches with')
  t.match(seen.securedKeyRestrictions, { userToken: 'user-7', restrictIndices: 'products', filters: 'tenant_id:"acme OR tenant_id:other"' })
  const { macValid } = decodeSecuredKey(String(seen.headers['x-algolia-api-key']), TEST_KEYS.apiKey)
  t.ok(macValid, 'derived from ALGOLIA_API_KEY')
  t.equal(seen.userToken?.sub, 'user-7', 'the user token is still there')

  await send('acme OR tenant_id:other')
  t.equal(standIn.received.at(-1)!.headers['x-algolia-api-key'], seen.headers['x-algolia-api-key'], 'cached per user like the user token')
})
