import t from 'tap'
import { request } from 'undici'
import { AGENT_ID, sessionToken } from '../helpers/fixtures.js'
import { NO_SHEDDING, startGateway, startStandIn, testClient } from '../helpers/gateway.js'
import { postCompletion } from '../helpers/requests.js'

// Issue 10, item 3: `includeFeedback` (get and list) and `feedbackVote` (list) were dropped, so
// a reopened chat could not show its votes; feedback answered 200 {"status":"ok"} where Agent
// Studio answers 201 with the stored feedback.

t.test('a vote is answered 201 with the stored feedback, and a reopened chat shows it', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { env: NO_SHEDDING })
  const client = testClient(t)
  const headers = { authorization: `Bearer ${await sessionToken('alice')}`, 'content-type': 'application/json' }
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await request(`${gateway.url}/agent-studio/1${path}`, {
      method,
      headers,
      dispatcher: client,
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> }
  }

  const answer = await postCompletion({
    gatewayUrl: gateway.url,
    dispatcher: client,
    user: 'alice',
    query: 'compatibilityMode=ai-sdk-5&stream=false',
    body: { id: 'chat-1', messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'Which boots?' }] }] }
  })
  const messageId = ((await answer.body.json()) as { id: string }).id

  const vote = await call('POST', '/feedback', { messageId, agentId: AGENT_ID, vote: 1, tags: ['helpful'] })
  t.equal(vote.status, 201)
  t.match(vote.json, { id: String, agentId: AGENT_ID, messageId, vote: 1, tags: ['helpful'], notes: null, model: String, createdAt: String, updatedAt: String })

  const reopened = await call('GET', `/agents/${AGENT_ID}/conversations/chat-1?includeFeedback=true`)
  t.equal(reopened.status, 200)
  t.match(reopened.json, { id: 'chat-1', feedback: [{ messageId, vote: 1 }] })
  t.match(standIn.received.at(-1)!.query, { includeFeedback: 'true' })
  const plain = await call('GET', `/agents/${AGENT_ID}/conversations/chat-1`)
  t.equal(plain.json.feedback, undefined, 'without includeFeedback, no feedback')

  const upVoted = await call('GET', `/agents/${AGENT_ID}/conversations?includeFeedback=true&feedbackVote=1`)
  t.match(upVoted.json, { data: [{ id: 'chat-1', feedback: [{ messageId, vote: 1 }] }] })
  t.same(standIn.received.at(-1)!.query, { includeFeedback: 'true', feedbackVote: '1' })
  const downVoted = await call('GET', `/agents/${AGENT_ID}/conversations?includeFeedback=true&feedbackVote=0`)
  t.same(downVoted.json.data, [])
})

t.test('includeFeedback and feedbackVote are validated', async (t) => {
  const { standIn, url } = await startStandIn(t)
  const gateway = await startGateway(t, url, { listen: false, env: NO_SHEDDING })
  const headers = { authorization: `Bearer ${await sessionToken('alice')}` }
  for (const [path, message] of [
    ['conversations?includeFeedback=yes', /includeFeedback must be true or false/],
    ['conversations?feedbackVote=1', /feedbackVote needs includeFeedback=true/],
    ['conversations?includeFeedback=true&feedbackVote=2', /feedbackVote must be 0 or 1/],
    ['conversations/chat-1?includeFeedback=1', /includeFeedback must be true or false/]
  ] as const) {
    const response = await gateway.app.inject({ method: 'GET', url: `/agent-studio/1/agents/${AGENT_ID}/${path}`, headers })
    t.equal(response.statusCode, 400, path)
    t.match(response.json(), { error: 'invalid_query', message }, path)
  }
  t.equal(standIn.received.length, 0, 'nothing reached Agent Studio')
})
