import t from 'tap'
import { request } from 'undici'
import { AGENT_ID, sharedStandIn } from './standin-client.js'
import { requestsReceived } from '../src/request-counter.js'

// `received` records only the requests a route handled; the request counter sees every HTTP
// request the stand-in's server got (issue 13: a test that "asked Agent Studio nothing" must be
// able to fail). In particular it sees the gateway's readiness probe, `HEAD {AGENT_STUDIO_URL}/`
// (src/routes/health.ts), which no route answers.

const shared = sharedStandIn(t)

t.test('every request counts once, whatever its answer, while received records only the handled ones', async (t) => {
  const counted = requestsReceived(shared.standIn.app)
  const recorded = shared.standIn.received.length
  const probe = await request(`${shared.url.href}/`, { method: 'HEAD' })
  await probe.body.dump()
  t.equal(probe.statusCode, 404, 'the readiness probe gets an HTTP answer (any answer means reachable)')
  t.equal(requestsReceived(shared.standIn.app), counted + 1, 'the probe is counted')

  await shared.call('GET', '/1/nothing-here')
  await shared.call('GET', `/1/agents/${AGENT_ID}/conversations`, { credentials: {} })
  await shared.call('POST', `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5`, {
    body: '{not json',
    headers: { 'content-type': 'application/json' }
  })
  await shared.call('POST', `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`, {
    body: { messages: [{ role: 'user', content: 'hi' }] }
  })
  t.equal(requestsReceived(shared.standIn.app), counted + 5, 'a 404, a 401, a 400 and a 200: each counted')
  t.equal(shared.standIn.received.length, recorded + 1, 'only the completion was recorded')
})

t.test("requests to the Search API's key routes count too", async (t) => {
  const counted = requestsReceived(shared.standIn.app)
  await request(`${shared.url.origin}/1/keys/anything`).then((answer) => answer.body.dump())
  t.equal(requestsReceived(shared.standIn.app), counted + 1)
})

t.test('a server that is not a stand-in has no counter', async (t) => {
  const { default: Fastify } = await import('fastify')
  t.throws(() => requestsReceived(Fastify()), /not a stand-in/)
})
