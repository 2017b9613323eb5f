import t from 'tap'
import { request } from 'undici'
import { TEST_KEYS, sharedStandIn } from './standin-client.js'

// The Search API's key routes, as the gateway's key audit reads them (specs/search/paths/keys):
// GET /1/keys/{key} (key.yml, getApiKey) tells a key its own ACL and restrictions ("When
// authenticating with other API keys, you can only retrieve information for that key, with the
// description replaced by `<redacted>`"), the Admin API key any key's; GET /1/keys (keys.yml,
// listApiKeys, x-acl admin) lists every key for the Admin API key only. Refusals are 403
// (MethodNotAllowed.yml), an unknown key 404; Algolia answers a wrong application id or key 403.

const ADMIN = 'test-admin-key-0e1f2a'
const shared = sharedStandIn(t, { adminKey: ADMIN })
const searchApi = (path: string, key: string | undefined, appId: string = TEST_KEYS.appId) =>
  request(`${shared.url.origin}${path}`, { headers: { 'x-algolia-application-id': appId, ...(key === undefined ? {} : { 'x-algolia-api-key': key }) } }).then(
    async (answer) => ({ status: answer.statusCode, body: (await answer.body.json()) as Record<string, unknown> })
  )

t.test("a key reads itself: its ACL and restrictions, the description redacted, the spec's fields", async (t) => {
  const { status, body } = await searchApi(`/1/keys/${TEST_KEYS.searchKey}`, TEST_KEYS.searchKey)
  t.equal(status, 200)
  t.same(body, {
    value: TEST_KEYS.searchKey,
    acl: ['search'],
    description: '<redacted>',
    indexes: [],
    referers: ['https://app.example.com/*'],
    maxQueriesPerIPPerHour: 500,
    maxHitsPerQuery: 0,
    validity: 0,
    createdAt: 1767225600
  })
})

t.test('the Admin API key reads any key, description included', async (t) => {
  const { status, body } = await searchApi(`/1/keys/${TEST_KEYS.apiKey}`, ADMIN)
  t.equal(status, 200)
  t.match(body, { value: TEST_KEYS.apiKey, acl: ['search', 'logs'], description: 'stand-in key' })
})

t.test('a key may not read another key: 403', async (t) => {
  t.same(await searchApi(`/1/keys/${TEST_KEYS.apiKey}`, TEST_KEYS.searchKey), {
    status: 403,
    body: { message: 'Method not allowed with this API key', status: 403 }
  })
})

t.test('the Admin API key is not a key object: asking about it is a 404', async (t) => {
  t.same(await searchApi(`/1/keys/${ADMIN}`, ADMIN), { status: 404, body: { message: 'Key does not exist', status: 404 } })
})

t.test('a wrong application id, an unknown key or no key at all is refused with 403', async (t) => {
  const refused = { status: 403, body: { message: 'Invalid Application-ID or API key', status: 403 } }
  t.same(await searchApi(`/1/keys/${TEST_KEYS.searchKey}`, TEST_KEYS.searchKey, 'OTHERAPP1'), refused)
  t.same(await searchApi(`/1/keys/${TEST_KEYS.searchKey}`, 'unknown-key'), refused)
  t.same(await searchApi(`/1/keys/${TEST_KEYS.searchKey}`, undefined), refused)
})

t.test('only the Admin API key lists every key', async (t) => {
  const listed = await searchApi('/1/keys', ADMIN)
  t.equal(listed.status, 200)
  t.same(
    (listed.body.keys as Array<{ value: string }>).map((key) => key.value),
    [TEST_KEYS.apiKey, TEST_KEYS.searchKey]
  )
  const refused = { status: 403, body: { message: 'Method not allowed with this API key', status: 403 } }
  t.same(await searchApi('/1/keys', TEST_KEYS.apiKey), refused)
  t.same(await searchApi('/1/keys', undefined), refused)
})
