import t from 'tap'
import { request } from 'undici'
import { TEST_KEYS, sharedStandIn } from './standin-client.js'

// Bug (found by these tests, issue 13): a stand-in built without an Admin API key compared the
// request's missing x-algolia-api-key (undefined) with the missing admin key (undefined), so
// GET /1/keys with the application id alone listed every key, ACLs included. listApiKeys needs
// the admin ACL (specs/search/paths/keys/keys.yml): with no admin key nobody may list.

const shared = sharedStandIn(t)

t.test('without an Admin API key configured, GET /1/keys is refused to a request with no key and to every key', async (t) => {
  for (const key of [undefined, TEST_KEYS.apiKey, TEST_KEYS.searchKey]) {
    const answer = await request(`${shared.url.origin}/1/keys`, {
      headers: { 'x-algolia-application-id': TEST_KEYS.appId, ...(key === undefined ? {} : { 'x-algolia-api-key': key }) }
    })
    t.equal(answer.statusCode, 403, key ?? 'no key')
    t.same(await answer.body.json(), { message: 'Method not allowed with this API key', status: 403 })
  }
})
