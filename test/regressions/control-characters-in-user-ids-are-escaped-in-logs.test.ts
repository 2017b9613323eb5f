import t from 'tap'
import { request } from 'undici'
import { sessionToken } from '../helpers/fixtures.js'
import { startGateway, startStandIn, testClient } from '../helpers/gateway.js'

// Issue 11, item 13: user ids come from the app's session and were written to the log as they
// were. JSON escapes C0 controls only, so C1 controls and bidirectional overrides reached log
// viewers raw: `\u202E` makes "alice‮nimda" display as something else.

t.test('bidi overrides, C1 controls and line separators in a user id are written as \\uXXXX in the log line', async (t) => {
  const { url } = await startStandIn(t)
  const gateway = await startGateway(t, url)
  const id = 'mallory\u202Enimda\u0085\u2028\u2066x'
  const response = await request(`${gateway.url}/search-key`, {
    method: 'POST',
    dispatcher: testClient(t),
    headers: { authorization: `Bearer ${await sessionToken(id)}` }
  })
  t.equal(response.statusCode, 200, 'the id is valid for the app, so the request is served')
  await response.body.dump()
  const line = gateway.logs.requests.at(-1)!
  t.equal(line.userId, 'mallory\\u202enimda\\u0085\\u2028\\u2066x')
  t.notMatch(gateway.logs.text(), /[\u0080-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/, 'not one such character reached the log')
})
