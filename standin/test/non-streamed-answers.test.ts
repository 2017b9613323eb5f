import t from 'tap'
import { AGENT_ID, sharedStandIn } from './standin-client.js'
import type { Test } from 'tap'

// stream=false (agentCompletions.yml: `stream`, default true) answers one JSON object in each
// mode's shape: ai-sdk-5 AssistantMessageV5Response `{ role, parts: [{ type: "step-start" },
// { type: "text", text }] }`, ai-sdk-4 AssistantMessageV4Response with the text as `content`,
// both with `id` and `usage` (agent-studio-api.md "Streamed responses"; UsageV5.yml and UsageV4.yml name the fields).

const shared = sharedStandIn(t)
const ask = async (t: Test, mode: string, text: string) => {
  const answer = await shared.call('POST', `/1/agents/${AGENT_ID}/completions?compatibilityMode=${mode}&stream=false`, {
    body: { messages: [{ role: 'user', content: text }] }
  })
  t.equal(answer.status, 200)
  t.match(answer.headers['content-type'], /^application\/json/)
  return answer.json()
}
const usage = { inputTokens: 12, outputTokens: 24, reasoningTokens: 0, totalTokens: 36 }

t.test('ai-sdk-5: an assistant message with a step-start and the whole text as one part', async (t) => {
  const body = await ask(t, 'ai-sdk-5', 'hi')
  t.same(body, {
    id: body.id,
    role: 'assistant',
    parts: [
      { type: 'step-start' },
      { type: 'text', text: 'You asked: "hi". This answer comes from the Agent Studio stand-in, streamed word by word through the gateway.' }
    ],
    usage
  })
  t.match(body.id, /^alg_msg_[0-9a-f]{32}$/)
})

t.test('ai-sdk-5: a search answer keeps its reasoning, tool part (output-available) and suggestions', async (t) => {
  const body = await ask(t, 'ai-sdk-5', '[search] tents')
  t.match(body.parts, [
    { type: 'step-start' },
    { type: 'reasoning', text: String },
    { type: 'tool-algolia_search_index', toolCallId: String, state: 'output-available', input: { query: 'tents' }, output: { hits: Array, queryID: String } },
    { type: 'step-start' },
    { type: 'text', text: /tents/ },
    { type: 'data-suggestions', data: { suggestions: Array } }
  ])
})

t.test('ai-sdk-4: the text as content, tool invocations with their results', async (t) => {
  const plain = await ask(t, 'ai-sdk-4', 'hi')
  t.same(plain, {
    id: plain.id,
    role: 'assistant',
    content: 'You asked: "hi". This answer comes from the Agent Studio stand-in, streamed word by word through the gateway.',
    usage: { promptTokens: 12, completionTokens: 24, reasoningTokens: 0, totalTokens: 36 }
  })
  const search = await ask(t, 'ai-sdk-4', '[search] tents')
  t.match(search, {
    content: String,
    toolInvocations: [{ state: 'result', toolName: 'algolia_search_index', args: { query: 'tents' }, result: { queryID: String } }]
  })
  const clientTool = await ask(t, 'ai-sdk-4', 'Buy it [client-tool]')
  t.match(clientTool, { content: '', toolInvocations: [{ state: 'call', toolName: 'addToCart', args: { objectID: 'p-1', quantity: 1 } }] })
  t.notOk('result' in (clientTool.toolInvocations as Array<Record<string, unknown>>)[0]!, 'a client-side tool has no result upstream')
})
