import t from 'tap'
import { AGENT_ID, sharedStandIn } from './standin-client.js'
import type { Test } from 'tap'

// compatibilityMode=ai-sdk-4 answers the AI SDK 4 data stream protocol (agent-studio-api.md
// "Streamed responses"): one `<code>:<json>` line per part, header `x-vercel-ai-data-stream: v1`;
// `f` step start (with the message id), `g` reasoning, `b`/`c`/`9` tool call start, delta and
// call, `a` tool result, `0` text, `2` data, `e` step finish, `d` finish. (`ai` 5+ no longer
// ships a reader for this protocol, so the lines are parsed here.)

const shared = sharedStandIn(t)
const path = `/1/agents/${AGENT_ID}/completions?compatibilityMode=ai-sdk-4`

async function lines(t: Test, text: string) {
  const answer = await shared.call('POST', path, { body: { messages: [{ role: 'user', content: text }] } })
  t.equal(answer.status, 200)
  t.equal(answer.headers['x-vercel-ai-data-stream'], 'v1')
  t.equal(answer.headers['content-type'], 'text/plain; charset=utf-8')
  t.ok(answer.text.endsWith('\n'), 'every line ends with a newline')
  return answer.text
    .trimEnd()
    .split('\n')
    .map((line) => {
      const match = /^([0-9a-z]):(.*)$/.exec(line)
      if (match === null) throw new Error(`not a data stream line: ${line}`)
      return { code: match[1]!, value: JSON.parse(match[2]!) as unknown }
    })
}

t.test('a plain answer is one step: f with the message id, text parts, e and d with finishReason stop', async (t) => {
  const parts = await lines(t, 'hello')
  const codes = parts.map((part) => part.code)
  t.same(codes, ['f', ...codes.slice(1, -2).map(() => '0'), 'e', 'd'])
  t.match(parts[0]!.value, { messageId: /^alg_msg_[0-9a-f]{32}$/ })
  t.equal(
    parts
      .slice(1, -2)
      .map((part) => part.value)
      .join(''),
    'You asked: "hello". This answer comes from the Agent Studio stand-in, streamed word by word through the gateway.'
  )
  t.same(parts.at(-2)!.value, {
    finishReason: 'stop',
    usage: { promptTokens: 12, completionTokens: 24, reasoningTokens: 0, totalTokens: 36 },
    isContinued: false
  })
  t.same(parts.at(-1)!.value, { finishReason: 'stop', usage: { promptTokens: 12, completionTokens: 24, reasoningTokens: 0, totalTokens: 36 } })
})

t.test("a search answer uses the protocol's reasoning, tool and data parts, in two steps with one toolCallId", async (t) => {
  const parts = await lines(t, '[search] tents')
  const codes = parts.map((part) => part.code)
  t.same(codes, ['f', 'g', 'b', 'c', '9', 'a', 'e', 'f', ...codes.slice(8, -3), 'e', '2', 'd'])
  t.ok(codes.slice(8, -3).length > 1 && codes.slice(8, -3).every((code) => code === '0'), "text parts between the second step's start and finish")
  t.match(parts[2]!.value, { toolCallId: String, toolName: 'algolia_search_index' })
  t.match(parts[4]!.value, { toolName: 'algolia_search_index', args: { query: 'tents' } })
  t.match(parts[5]!.value, { toolCallId: String, result: { hits: Array, queryID: /^[0-9a-f]{32}$/ } })
  const toolCallIds = new Set(parts.slice(2, 6).map((part) => (part.value as { toolCallId: string }).toolCallId))
  t.equal(toolCallIds.size, 1)
  t.match(parts[6]!.value, { finishReason: 'tool-calls' }, 'the tool step finishes with tool-calls')
  t.same(parts.at(-2)!.value, [{ type: 'suggestions', suggestions: ['Cheaper tents?', 'Compare the top two tents', 'What about delivery?'] }])
  t.equal((parts[0]!.value as { messageId: string }).messageId, (parts[7]!.value as { messageId: string }).messageId, 'both steps belong to one message')
})

t.test('a client-side tool call stops with finishReason tool-calls and no result line', async (t) => {
  const parts = await lines(t, 'Buy it [client-tool]')
  t.same(
    parts.map((part) => part.code),
    ['f', 'b', 'c', '9', 'e', 'd']
  )
  t.match(parts.at(-1)!.value, { finishReason: 'tool-calls' })
})
