import t from 'tap'
import { AGENT_ID, sharedStandIn } from './standin-client.js'

// POST /1/feedback (paths/feedback/feedback.yml, x-acl search) takes a FeedbackCreationRequest
// `{ messageId, agentId, vote: 0|1, tags?: ≤ 10 × ≤ 50 chars, notes?: ≤ 1000 chars }` and answers
// 201 with a FeedbackResponse `{ id, agentId, messageId, vote, tags, notes, model, createdAt,
// updatedAt }`; invalid bodies are a 422 HTTPValidationError. Conversations read with
// includeFeedback=true carry the feedback on their messages (conversation.yml, conversations.yml).

const shared = sharedStandIn(t)
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

t.test("a vote answers 201 with the stored feedback, every field of the spec's response present", async (t) => {
  const answer = await shared.call('POST', '/1/feedback', {
    user: 'alice',
    body: { messageId: 'alg_msg_1', agentId: AGENT_ID, vote: 1, tags: ['helpful'], notes: 'Spot on' }
  })
  t.equal(answer.status, 201)
  const stored = answer.json<Record<string, unknown>>()
  t.same(Object.keys(stored).sort(), ['agentId', 'createdAt', 'id', 'messageId', 'model', 'notes', 'tags', 'updatedAt', 'vote'])
  t.match(stored, {
    id: /^alg_fbk_[0-9a-f]{32}$/,
    agentId: AGENT_ID,
    messageId: 'alg_msg_1',
    vote: 1,
    tags: ['helpful'],
    notes: 'Spot on',
    model: 'stand-in-1',
    createdAt: ISO,
    updatedAt: ISO
  })
  t.equal(stored.createdAt, stored.updatedAt, 'new feedback was never updated')
  t.match(shared.standIn.store.feedback.at(-1), { userToken: 'alice', stored })
})

t.test('a vote without tags or notes stores an empty tag list and null notes', async (t) => {
  const stored = (await shared.call('POST', '/1/feedback', { body: { messageId: 'alg_msg_2', agentId: AGENT_ID, vote: 0 } })).json()
  t.match(stored, { vote: 0, tags: [], notes: null })
})

const invalid: Array<[string, Record<string, unknown>, Array<{ loc: unknown[]; type: string }>]> = [
  [
    'an empty body',
    {},
    [
      { loc: ['body', 'messageId'], type: 'missing' },
      { loc: ['body', 'agentId'], type: 'missing' },
      { loc: ['body', 'vote'], type: 'literal_error' }
    ]
  ],
  ['a vote of 2', { messageId: 'm', agentId: AGENT_ID, vote: 2 }, [{ loc: ['body', 'vote'], type: 'literal_error' }]],
  [
    'eleven tags',
    { messageId: 'm', agentId: AGENT_ID, vote: 1, tags: Array.from({ length: 11 }, (_, n) => `t${n}`) },
    [{ loc: ['body', 'tags'], type: 'value_error' }]
  ],
  ['a tag of 51 characters', { messageId: 'm', agentId: AGENT_ID, vote: 1, tags: ['x'.repeat(51)] }, [{ loc: ['body', 'tags'], type: 'value_error' }]],
  ['notes of 1001 characters', { messageId: 'm', agentId: AGENT_ID, vote: 1, notes: 'x'.repeat(1001) }, [{ loc: ['body', 'notes'], type: 'string_too_long' }]]
]

for (const [what, body, problems] of invalid) {
  t.test(`${what} is a 422 naming each field, and nothing is stored`, async (t) => {
    const before = shared.standIn.store.feedback.length
    const answer = await shared.call('POST', '/1/feedback', { body })
    t.equal(answer.status, 422)
    const detail = answer.json<{ detail: Array<{ loc: unknown; msg: unknown; type: string }> }>().detail
    t.same(
      detail.map(({ loc, type }) => ({ loc, type })),
      problems
    )
    t.ok(
      detail.every((problem) => typeof problem.msg === 'string' && problem.msg.length > 0),
      'each problem has a msg'
    )
    t.equal(shared.standIn.store.feedback.length, before)
  })
}

t.test('the limits themselves pass: ten tags of 50 characters and notes of 1000', async (t) => {
  const answer = await shared.call('POST', '/1/feedback', {
    body: { messageId: 'm', agentId: AGENT_ID, vote: 1, tags: Array.from({ length: 10 }, () => 'x'.repeat(50)), notes: 'x'.repeat(1000) }
  })
  t.equal(answer.status, 201)
})

t.test('a conversation read with includeFeedback carries the votes on its messages, and the list filters by vote', async (t) => {
  const answer = await shared.call('POST', `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`, {
    user: 'voter',
    body: { id: 'alg_cnv_voted', messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'rate me' }] }] }
  })
  const messageId = answer.json<{ id: string }>().id
  const vote = (await shared.call('POST', '/1/feedback', { user: 'voter', body: { messageId, agentId: AGENT_ID, vote: 0 } })).json()
  const conversation = await shared.call('GET', `/1/agents/${AGENT_ID}/conversations/alg_cnv_voted?includeFeedback=true`, { user: 'voter' })
  t.same(conversation.json<{ feedback: unknown }>().feedback, [vote])
  t.notOk('feedback' in (await shared.call('GET', `/1/agents/${AGENT_ID}/conversations/alg_cnv_voted`, { user: 'voter' })).json(), 'no feedback unless asked')
  const down = (await shared.call('GET', `/1/agents/${AGENT_ID}/conversations?includeFeedback=true&feedbackVote=0`, { user: 'voter' })).json<{
    data: Array<{ id: string; feedback: unknown }>
  }>()
  t.same(
    down.data.map((c) => [c.id, c.feedback]),
    [['alg_cnv_voted', [vote]]]
  )
  const up = (await shared.call('GET', `/1/agents/${AGENT_ID}/conversations?includeFeedback=true&feedbackVote=1`, { user: 'voter' })).json<{
    data: unknown[]
  }>()
  t.same(up.data, [])
})

// PATCH /1/feedback (search; Algolia's newer spec files, @algolia/agent-studio 1.4.0): a changed
// vote, `{ messageId, agentId, vote?, tags?, notes? }`, 200 with the updated FeedbackResponse.
t.test("PATCH changes the caller's own feedback: 200 with it updated; someone else's or none is a 404; a bad field a 422", async (t) => {
  const created = (await shared.call('POST', '/1/feedback', { user: 'patcher', body: { messageId: 'alg_msg_p', agentId: AGENT_ID, vote: 1 } })).json<
    Record<string, unknown>
  >()
  const changed = await shared.call('PATCH', '/1/feedback', {
    user: 'patcher',
    body: { messageId: 'alg_msg_p', agentId: AGENT_ID, vote: 0, notes: 'changed my mind' }
  })
  t.equal(changed.status, 200)
  t.match(changed.json(), { id: created.id, vote: 0, notes: 'changed my mind', tags: [], createdAt: created.createdAt, updatedAt: ISO })
  t.equal((await shared.call('PATCH', '/1/feedback', { user: 'intruder', body: { messageId: 'alg_msg_p', agentId: AGENT_ID, vote: 1 } })).status, 404)
  t.equal((await shared.call('PATCH', '/1/feedback', { user: 'patcher', body: { messageId: 'alg_msg_none', agentId: AGENT_ID, vote: 1 } })).status, 404)
  const invalid = await shared.call('PATCH', '/1/feedback', { user: 'patcher', body: { messageId: 'alg_msg_p', agentId: AGENT_ID, vote: 3 } })
  t.equal(invalid.status, 422)
  t.match(invalid.json(), { detail: [{ loc: ['body', 'vote'] }] })
})
