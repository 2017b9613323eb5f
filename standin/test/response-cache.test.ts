import t from 'tap'
import { AGENT_ID, sharedStandIn, sseData } from './standin-client.js'

// Agent Studio's completion cache as documented (docs, Agent Studio "Caching"; agentCompletions.yml
// `cache`, "Use cached responses if available", default true): keyed by the messages (trimmed,
// casing normalised), the agent's configuration and its tools, not the user token nor the API
// key; only a conversation's first message; streamed and non-streamed requests share entries;
// `cache=false` neither reads nor stores. Reported in `X-Cache: HIT|MISS` and `Cache-Status:
// AgentStudio; hit | AgentStudio; fwd=miss` (agent-studio-api.md); `fwd=bypass` (RFC 9211 §2.2)
// when the request does not use the cache.

const shared = sharedStandIn(t)
const userMessage = (text: string, id = 'm1') => ({ id, role: 'user', parts: [{ type: 'text', text }] })
const ask = (text: string, query = '', agent = AGENT_ID, options: { user?: string; messages?: unknown[] } = {}) =>
  shared.call('POST', `/1/agents/${agent}/completions?compatibilityMode=ai-sdk-5&stream=false${query}`, {
    body: { messages: options.messages ?? [userMessage(text)] },
    ...(options.user === undefined ? {} : { user: options.user })
  })

t.test('the first answer is a miss, the same request again a hit with the same answer', async (t) => {
  const first = await ask('cache me')
  t.equal(first.headers['x-cache'], 'MISS')
  t.equal(first.headers['cache-status'], 'AgentStudio; fwd=miss')
  const second = await ask('cache me')
  t.equal(second.headers['x-cache'], 'HIT')
  t.equal(second.headers['cache-status'], 'AgentStudio; hit')
  t.same(second.json(), first.json(), 'the same message, id included')
})

t.test('cache=false neither reads nor stores: a fresh answer, reported as a bypass, and the entry is unchanged', async (t) => {
  const cached = await ask('regenerate me')
  const fresh = await ask('regenerate me', '&cache=false')
  t.equal(fresh.headers['x-cache'], 'MISS')
  t.equal(fresh.headers['cache-status'], 'AgentStudio; fwd=bypass')
  t.not(fresh.json().id, cached.json().id)
  const after = await ask('regenerate me')
  t.equal(after.headers['x-cache'], 'HIT')
  t.equal(after.json().id, cached.json().id, 'the bypass stored nothing')
  const neverCached = await ask('only ever bypassed', '&cache=false')
  t.equal((await ask('only ever bypassed')).headers['x-cache'], 'MISS', 'a bypass does not fill the cache')
  t.ok(neverCached.json().id)
})

t.test('the key: casing and surrounding spaces do not matter, the user token does not count, another agent is another entry', async (t) => {
  const first = await ask('Keyed Question', '', AGENT_ID, { user: 'alice' })
  const other = await ask('  keyed question ', '', AGENT_ID, { user: 'bob' })
  t.equal(other.headers['x-cache'], 'HIT', 'another user, same first question: the same entry')
  t.equal(other.json().id, first.json().id)
  t.equal((await ask('keyed differently')).headers['x-cache'], 'MISS')
  t.equal((await ask('keyed question', '', 'agent-2')).headers['x-cache'], 'MISS')
})

t.test("only a conversation's first message is cached: two or more messages bypass", async (t) => {
  const history = [userMessage('first'), { id: 'a1', role: 'assistant', parts: [{ type: 'text', text: 'hi' }] }, userMessage('second', 'm2')]
  const one = await ask('', '', AGENT_ID, { messages: history })
  const two = await ask('', '', AGENT_ID, { messages: history })
  t.equal(one.headers['cache-status'], 'AgentStudio; fwd=bypass')
  t.equal(two.headers['x-cache'], 'MISS')
  t.not(two.json().id, one.json().id)
})

t.test('streamed and non-streamed requests share entries; a streamed hit replays the same message id', async (t) => {
  const plain = await ask('stream and json')
  const stream = () =>
    shared.call('POST', `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5`, { body: { messages: [userMessage('stream and json')] } })
  const streamed = await stream()
  t.equal(streamed.headers['x-cache'], 'HIT')
  t.equal((sseData(streamed.text)[0] as { messageId: string }).messageId, plain.json().id)
  t.equal((await stream()).headers['x-cache'], 'HIT')
})

t.test('memory shapes a first answer, per user token, unless memory=false; and the cache serves it to anyone', async (t) => {
  shared.standIn.store.memories.set('alice', ['allergic to peanuts'])
  const alice = await ask('what should I eat', '&cache=false', AGENT_ID, { user: 'alice' })
  t.match(alice.text, /From what I remember of you: allergic to peanuts/)
  t.notMatch((await ask('what should I eat', '&cache=false&memory=false', AGENT_ID, { user: 'alice' })).text, /remember/, 'memory=false: not loaded')
  t.notMatch((await ask('what should I eat', '&cache=false', AGENT_ID, { user: 'bob' })).text, /peanuts/, "another user's memory is theirs")
  // The documented danger: the key has no user token.
  await ask('what should I drink', '', AGENT_ID, { user: 'alice' })
  const bob = await ask('what should I drink', '', AGENT_ID, { user: 'bob' })
  t.equal(bob.headers['x-cache'], 'HIT')
  t.match(bob.text, /allergic to peanuts/, "bob got alice's memory from the cache")
})
