import t from 'tap'
import { decodeProtectedHeader } from 'jose'
import { LiveSecrets } from '../src/credentials/live-secrets.js'
import { UserTokenMinter } from '../src/credentials/user-token.js'

const signingKey = { keyId: 'kid-a', secret: 'sk-alg-a' }

t.test('a reloaded API key is used from the next call on; listeners hear about it; names, not values, are reported', async (t) => {
  const minter = new UserTokenMinter({ key: signingKey, ttlSeconds: 3600 })
  const secrets = new LiveSecrets('APP', { apiKey: 'old-api', searchKey: 'old-search', signingKey }, minter)
  let heard = 0
  secrets.onChange(() => heard++)
  t.same(secrets.credentials('tok'), { appId: 'APP', apiKey: 'old-api', userToken: 'tok' })

  t.same(secrets.update({ apiKey: 'old-api', searchKey: 'old-search', signingKey: { ...signingKey } }), [], 'nothing changed')
  t.equal(heard, 0)

  t.same(secrets.update({ apiKey: 'new-api', searchKey: 'new-search', signingKey }), ['ALGOLIA_API_KEY', 'ALGOLIA_SEARCH_KEY'])
  t.equal(heard, 1, 'derived keys (tenant isolation) are dropped')
  t.same(secrets.credentials(undefined), { appId: 'APP', apiKey: 'new-api', userToken: undefined })
  t.equal(secrets.searchKey, 'new-search')
  t.equal(decodeProtectedHeader(await minter.tokenFor('u')).kid, 'kid-a', 'the signing key was not touched')

  t.same(secrets.update({ apiKey: 'new-api', searchKey: 'new-search', signingKey: { keyId: 'kid-b', secret: 'sk-alg-b' } }), ['ALGOLIA_KEY_ID/ALGOLIA_SECRET_KEY'])
  t.equal(secrets.keyId, 'kid-b')
  t.equal(decodeProtectedHeader(await minter.tokenFor('u')).kid, 'kid-b', 'the minter signs with the new key at once')
})
