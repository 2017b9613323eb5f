import t from 'tap'
import { AGENT_ID, sharedStandIn } from './standin-client.js'

// Agent Studio persists a completion as a conversation only when the request names one (`id`,
// ≤ 128 characters: AgentCompletionRequest) and every message has an `id`
// (agent-studio-api.md "Conversations"). Stored: the user's messages and, once complete, the
// assistant's answer; the title comes from the first user message, at most 60 characters; the
// owner is the user token's `sub`.

const shared = sharedStandIn(t)
const complete = (body: unknown, user = 'alice', mode = 'ai-sdk-5', stream = false) =>
  shared.call('POST', `/1/agents/${AGENT_ID}/completions?compatibilityMode=${mode}&stream=${stream}&cache=false`, { user, body })
const getConversation = (id: string, user = 'alice') => shared.call('GET', `/1/agents/${AGENT_ID}/conversations/${id}`, { user })
const msg = (id: string | undefined, text: string, role = 'user') => ({ ...(id === undefined ? {} : { id }), role, parts: [{ type: 'text', text }] })

t.test('with an id and an id on every message, the exchange is stored: the user message, then the answer under its message id', async (t) => {
  const answer = await complete({ id: 'alg_cnv_persist1', messages: [msg('m1', 'Where are my trail shoes?')] })
  t.equal(answer.status, 200)
  const stored = await getConversation('alg_cnv_persist1')
  t.equal(stored.status, 200)
  const conversation = stored.json<{ messages: Array<Record<string, unknown>> } & Record<string, unknown>>()
  t.match(conversation, { id: 'alg_cnv_persist1', agentId: AGENT_ID, title: 'Where are my trail shoes?', userToken: 'alice', messageCount: 2 })
  t.same(
    conversation.messages.map((m) => [m.id, m.role, m.conversationId]),
    [
      ['m1', 'user', 'alg_cnv_persist1'],
      [answer.json().id, 'assistant', 'alg_cnv_persist1']
    ]
  )
  t.same(conversation.messages[0]!.parts, [{ type: 'text', text: 'Where are my trail shoes?' }])
  t.match(conversation.messages[1]!.parts, [{ type: 'text', text: /^You asked: "Where are my trail shoes\?"/ }])
})

t.test('the next turn resends the history: only new messages are added, none twice', async (t) => {
  const first = await complete({ id: 'alg_cnv_persist2', messages: [msg('m1', 'first question')] })
  const firstAnswer = first.json<{ id: string }>()
  await complete({
    id: 'alg_cnv_persist2',
    messages: [msg('m1', 'first question'), msg(firstAnswer.id, 'the answer', 'assistant'), msg('m2', 'second question')]
  })
  const conversation = (await getConversation('alg_cnv_persist2')).json<{
    messageCount: number
    title: string
    messages: Array<{ id: string; role: string }>
  }>()
  t.equal(conversation.messageCount, 4)
  t.same(
    conversation.messages.map((m) => m.role),
    ['user', 'assistant', 'user', 'assistant']
  )
  t.equal(new Set(conversation.messages.map((m) => m.id)).size, 4, 'no message twice')
  t.equal(conversation.title, 'first question', 'the title stays the first user message')
})

t.test('without a conversation id nothing is stored', async (t) => {
  const before = shared.standIn.store.conversations.size
  t.equal((await complete({ messages: [msg('m1', 'no id')] })).status, 200)
  t.equal(shared.standIn.store.conversations.size, before)
})

t.test('when one message lacks an id nothing is stored, and the conversation answers 404', async (t) => {
  t.equal((await complete({ id: 'alg_cnv_partial', messages: [msg('m1', 'has an id'), msg(undefined, 'has none')] })).status, 200)
  const stored = await getConversation('alg_cnv_partial')
  t.equal(stored.status, 404)
  t.same(stored.json(), { detail: 'Conversation not found' })
})

t.test('the title is the first user message cut to 60 characters', async (t) => {
  const long = 'A question that goes on and on, well past the sixty characters a title may have.'
  await complete({ id: 'alg_cnv_title', messages: [msg('m1', long)] })
  t.equal((await getConversation('alg_cnv_title')).json().title, long.slice(0, 60))
})

t.test('a streamed answer is stored once the stream is complete, in every mode', async (t) => {
  for (const mode of ['ai-sdk-5', 'ai-sdk-4']) {
    const id = `alg_cnv_stream_${mode}`
    const answer = await complete(
      { id, messages: [mode === 'ai-sdk-4' ? { id: 'm1', role: 'user', content: 'streamed' } : msg('m1', 'streamed')] },
      'alice',
      mode,
      true
    )
    t.equal(answer.status, 200)
    t.match((await getConversation(id)).json(), { messageCount: 2, messages: [{ role: 'user', parts: [{ text: 'streamed' }] }, { role: 'assistant' }] }, mode)
  }
})

t.test('an answer cut before its end is not stored; the question is', async (t) => {
  shared.standIn.setFault({ kind: 'cut', afterEvents: 3 })
  t.teardown(() => shared.standIn.setFault(null))
  await t.rejects(complete({ id: 'alg_cnv_cut', messages: [msg('m1', 'cut me')] }, 'alice', 'ai-sdk-5', true))
  shared.standIn.setFault(null)
  t.match((await getConversation('alg_cnv_cut')).json(), { messageCount: 1, messages: [{ id: 'm1', role: 'user' }] })
})

t.test('a conversation id of 128 characters is accepted and retrievable', async (t) => {
  const id = `alg_cnv_${'x'.repeat(120)}`
  t.equal(id.length, 128)
  await complete({ id, messages: [msg('m1', 'long id')] })
  t.equal((await getConversation(id)).status, 200)
})

t.test('without a user token the conversation is stored with no owner (userToken null)', async (t) => {
  await shared.call('POST', `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5&stream=false`, {
    body: { id: 'alg_cnv_anon', messages: [msg('m1', 'anonymous')] }
  })
  const stored = await shared.call('GET', `/1/agents/${AGENT_ID}/conversations/alg_cnv_anon`)
  t.match(stored.json(), { id: 'alg_cnv_anon', userToken: null })
})
