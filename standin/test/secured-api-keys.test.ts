import t from 'tap'
import { searchClient } from '@algolia/client-search'
import { AGENT_ID, TEST_KEYS, sharedStandIn } from './standin-client.js'

// Secured API Keys (../shared/seeds/003_*, agent-studio-api.md "API keys and Secured API Keys"):
// base64(hex(HMAC-SHA256(parent, restrictions)) + restrictions), derived offline from a parent
// key; they carry the parent's ACL and restrictions the holder cannot remove, and stop working
// after `validUntil`. The stand-in accepts them from the parents it is told about and records
// the verified restrictions. Keys here are made by the official client's generateSecuredApiKey.

const shared = sharedStandIn(t, { acceptSecuredKeysFrom: [TEST_KEYS.searchKey] })
const client = searchClient(TEST_KEYS.appId, 'derive-only')
const nowSeconds = () => Math.floor(Date.now() / 1000)
const derive = (parentApiKey: string, restrictions: Record<string, unknown>) => client.generateSecuredApiKey({ parentApiKey, restrictions })
const complete = (key: string) =>
  shared.call('POST', `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`, {
    credentials: { 'x-algolia-application-id': TEST_KEYS.appId, 'x-algolia-api-key': key },
    body: { messages: [{ role: 'user', content: 'hi' }] }
  })

t.test("a secured key derived from an accepted parent works with the parent's ACL, and its restrictions are recorded", async (t) => {
  const validUntil = nowSeconds() + 600
  const answer = await complete(derive(TEST_KEYS.searchKey, { validUntil, userToken: 'u42', filters: 'tenant_id:acme', restrictIndices: ['products'] }))
  t.equal(answer.status, 200)
  t.same(shared.standIn.received.at(-1)!.securedKeyRestrictions, {
    validUntil: String(validUntil),
    userToken: 'u42',
    filters: 'tenant_id:acme',
    restrictIndices: 'products'
  })
})

t.test("a secured key inherits its parent's ACL: a search-only parent cannot read conversations", async (t) => {
  const answer = await shared.call('GET', `/1/agents/${AGENT_ID}/conversations`, {
    credentials: { 'x-algolia-application-id': TEST_KEYS.appId, 'x-algolia-api-key': derive(TEST_KEYS.searchKey, { validUntil: nowSeconds() + 600 }) }
  })
  t.equal(answer.status, 403)
})

t.test('an expired secured key is refused with 401', async (t) => {
  const answer = await complete(derive(TEST_KEYS.searchKey, { validUntil: nowSeconds() - 1 }))
  t.equal(answer.status, 401)
  t.same(answer.json(), { message: 'Invalid Application-ID or API key', status: 401 })
})

t.test('a secured key from a parent the stand-in was not told to accept is refused with 401', async (t) => {
  t.equal((await complete(derive(TEST_KEYS.apiKey, { validUntil: nowSeconds() + 600 }))).status, 401)
})

t.test('a secured key whose restrictions were edited after signing is refused with 401', async (t) => {
  const decoded = Buffer.from(derive(TEST_KEYS.searchKey, { validUntil: nowSeconds() + 600, filters: 'tenant_id:acme' }), 'base64').toString('utf8')
  const tampered = Buffer.from(decoded.replace('acme', 'evil')).toString('base64')
  t.equal((await complete(tampered)).status, 401)
})

t.test('the parent key itself still works and carries no restrictions', async (t) => {
  t.equal((await complete(TEST_KEYS.searchKey)).status, 200)
  t.equal(shared.standIn.received.at(-1)!.securedKeyRestrictions, undefined)
})
