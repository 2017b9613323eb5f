import t from 'tap'
import { AGENT_ID } from '../helpers/fixtures.js'
import { sharedStandIn, sseData } from './standin-client.js'

// Agent Studio reuses a completion for the same request unless it says `cache=false`
// (agentCompletions.yml: `cache`, "Use cached responses if available", default true) and reports
// it in `X-Cache: HIT|MISS` and `Cache-Status: AgentStudio; hit | AgentStudio; fwd=miss`
// (agent-studio-api.md). For a bypass the stand-in says `fwd=bypass` (RFC 9211 §2.2).

const shared = sharedStandIn(t)
const ask = (text: string, query = '', agent = AGENT_ID) =>
  shared.call('POST', `/1/agents/${agent}/completions?compatibilityMode=ai-sdk-5&stream=false${query}`, { body: { messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text }] }] } })

t.test('the first answer is a miss, the same request again a hit with the same answer', async (t) => {
  const first = await ask('cache me')
  t.equal(first.headers['x-cache'], 'MISS')
  t.equal(first.headers['cache-status'], 'AgentStudio; fwd=miss')
  const second = await ask('cache me')
  t.equal(second.headers['x-cache'], 'HIT')
  t.equal(second.headers['cache-status'], 'AgentStudio; hit')
  t.same(second.json(), first.json(), 'the same message, id included')
})

t.test('cache=false bypasses the cache: a fresh answer with a new id, reported as a bypass', async (t) => {
  const cached = await ask('regenerate me')
  const fresh = await ask('regenerate me', '&cache=false')
  t.equal(fresh.headers['x-cache'], 'MISS')
  t.equal(fresh.headers['cache-status'], 'AgentStudio; fwd=bypass')
  t.not(fresh.json().id, cached.json().id)
  const after = await ask('regenerate me')
  t.equal(after.headers['x-cache'], 'HIT')
  t.equal(after.json().id, fresh.json().id, 'the bypass stored its fresh answer')
})

t.test('another question, another agent or a streamed request is a different entry', async (t) => {
  await ask('keyed')
  t.equal((await ask('keyed differently')).headers['x-cache'], 'MISS')
  t.equal((await ask('keyed', '', 'agent-2')).headers['x-cache'], 'MISS')
  const streamed = await shared.call('POST', `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5`, { body: { messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'keyed' }] }] } })
  t.equal(streamed.headers['x-cache'], 'MISS')
  t.match(sseData(streamed.text)[0], { type: 'start' })
})

t.test('a streamed hit replays the same message id', async (t) => {
  const stream = () => shared.call('POST', `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-5`, { body: { messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'stream twice' }] }] } })
  const first = await stream()
  const second = await stream()
  t.equal(second.headers['x-cache'], 'HIT')
  t.equal((sseData(second.text)[0] as { messageId: string }).messageId, (sseData(first.text)[0] as { messageId: string }).messageId)
})
