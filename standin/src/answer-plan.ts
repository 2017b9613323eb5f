/**
 * What the stand-in's agent answers, before it is written in a protocol. Agent Studio's agents
 * answer in steps: a step may reason, call a tool and write text. The shapes follow Algolia's
 * spec (specs/agent-studio/: AssistantMessageV5's parts, tool parts `tool-<name>` with `input`
 * and `output`; a search tool's output carries `hits` and `queryID`; client-side tools
 * (ClientSideToolConfig) have no output upstream: the browser runs them and sends the result
 * back in the next request's history), and InstantSearch's chat widget (`data-suggestions`).
 *
 * A person or a test picks the answer with a marker in the question: `[search]` (reasoning,
 * a search tool round, then text and suggestions), `[think]` (reasoning, then text),
 * `[client-tool]` (a client-side tool call that waits for the browser). Anything else is a
 * plain text answer.
 */

export interface ToolCall {
  readonly toolCallId: string
  readonly toolName: string
  readonly input: Record<string, unknown>
  /** Absent for a client-side tool: the browser supplies it. */
  readonly output?: unknown
}

/** A `data-*` stream part (AI SDK 5 UI message stream); `transient` ones are not kept in the message. */
export interface DataPart {
  readonly type: `data-${string}`
  readonly data: unknown
  readonly transient?: boolean
}

export interface Step {
  readonly reasoning?: string
  readonly tool?: ToolCall
  /** Written after the step's tool events (ai-sdk-5 only). */
  readonly data?: readonly DataPart[]
  readonly text?: readonly string[]
}

export interface AnswerPlan {
  readonly messageId: string
  readonly steps: readonly Step[]
  readonly suggestions?: readonly string[]
  readonly metadata: Record<string, unknown>
  /** `tool-calls` when the answer stops for a client-side tool. */
  readonly finishReason: 'stop' | 'tool-calls'
}

export const CLIENT_TOOL = 'addToCart'
/** A tool that needs the user's approval before it runs (`[approval]`). */
export const APPROVAL_TOOL = 'emptyCart'
export const SEARCH_TOOL = 'algolia_search_index'

/** `memory`: what the agent remembers of this user (loaded at a conversation's start); it shapes the answer. */
export function planAnswer(messages: unknown, messageId: string, memory?: string): AnswerPlan {
  const plan = planWithoutMemory(messages, messageId)
  if (memory === undefined || memory === '') return plan
  const [first, ...rest] = plan.steps
  return { ...plan, steps: [{ ...first, text: [...words(`From what I remember of you: ${memory}. `), ...(first?.text ?? [])] }, ...rest] }
}

function planWithoutMemory(messages: unknown, messageId: string): AnswerPlan {
  const question = lastUserText(messages)
  const metadata = { model: 'stand-in-1', usage: usageFor(messages, question) }
  const decision = approvalDecision(messages)
  if (decision !== undefined) {
    const text = decision.approved ? `Approved: ${decision.toolName} ran.` : `Understood: ${decision.toolName} was not run.`
    return { messageId, metadata, finishReason: 'stop', steps: [{ text: words(`${text} Anything else?`) }] }
  }
  const toolResult = clientToolResult(messages)
  if (toolResult !== undefined) {
    return { messageId, metadata, finishReason: 'stop', steps: [{ text: words(`Done: ${JSON.stringify(toolResult).slice(0, 80)}. Anything else?`) }] }
  }
  if (question.includes('[approval]')) {
    // Agent Studio's tool approvals (agent-studio-api.md "Stream parts"): the call waits, the
    // stream says so with `data-tool-approval` (toolCallId, toolName, args, argsHash?,
    // conversationId?), and InstantSearch also receives a transient `data-tool-output-delta`.
    const toolCallId = `call_${messageId.slice(-8)}`
    const input = { cartId: 'cart-1' }
    return {
      messageId,
      metadata,
      finishReason: 'tool-calls',
      steps: [
        {
          tool: { toolCallId, toolName: APPROVAL_TOOL, input },
          data: [
            {
              type: 'data-tool-approval',
              data: { toolCallId, toolName: APPROVAL_TOOL, args: input, argsHash: 'sha256:5f0c6f1e', conversationId: 'alg_cnv_standin' }
            },
            { type: 'data-tool-output-delta', data: { toolCallId, delta: 'Waiting for your approval…' }, transient: true }
          ]
        }
      ]
    }
  }
  if (question.includes('[client-tool]')) {
    return {
      messageId,
      metadata,
      finishReason: 'tool-calls',
      steps: [{ tool: { toolCallId: `call_${messageId.slice(-8)}`, toolName: CLIENT_TOOL, input: { objectID: 'p-1', quantity: 1 } } }]
    }
  }
  if (question.includes('[search]')) {
    const query = question.replace('[search]', '').trim().slice(0, 100) || 'products'
    return {
      messageId,
      metadata,
      finishReason: 'stop',
      suggestions: [`Cheaper ${query}?`, `Compare the top two ${query}`, 'What about delivery?'],
      steps: [
        {
          reasoning: `The user is looking for ${query}; searching the catalogue first.`,
          tool: { toolCallId: `call_${messageId.slice(-8)}`, toolName: SEARCH_TOOL, input: { query }, output: searchOutput(query) }
        },
        { text: answerPieces(question) }
      ]
    }
  }
  if (question.includes('[think]')) {
    return { messageId, metadata, finishReason: 'stop', steps: [{ reasoning: 'Thinking about how to answer briefly.', text: answerPieces(question) }] }
  }
  return { messageId, metadata, finishReason: 'stop', steps: [{ text: answerPieces(question) }] }
}

/**
 * What Algolia's search tool returns to the model (the spec's search tool output). The records
 * are shaped like those of Algolia's e-commerce sample index (`instant_search`, the one
 * InstantSearch's guides use: name, description, brand, categories, price, rating, image), so a
 * chat UI's `templates.item` has what a real product card shows. `image` is a data: URL here, so
 * a page loads it with no network and under a strict CSP (`img-src 'self' data:`); a real
 * index holds a CDN URL.
 */
function searchOutput(query: string) {
  const hits = [1, 2, 3].map((n) => {
    const name = `${query} ${n}`
    return {
      objectID: `p-${n}`,
      name,
      description: `A stand-in product for "${query}", number ${n} of 3.`,
      brand: 'Stand-in Outfitters',
      categories: ['Demo', 'Stand-in'],
      price: 10 * n,
      rating: 2 + n,
      image: productImage(n),
      _highlightResult: { name: { value: `<em>${query}</em> ${n}`, matchLevel: 'full' } }
    }
  })
  return { hits, nbHits: hits.length, queryID: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', index: 'products' }
}

const IMAGE_COLOURS = ['#3a6ea5', '#c0504d', '#4f8a3c']

/** A small square picture of a parcel, one colour per hit. */
function productImage(n: number): string {
  const colour = IMAGE_COLOURS[(n - 1) % IMAGE_COLOURS.length]!
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="80" height="80" viewBox="0 0 80 80"><rect width="80" height="80" fill="#f1f3f6"/>` +
    `<path d="M16 28 40 16l24 12v26L40 66 16 54z" fill="${colour}"/><path d="M16 28l24 12 24-12M40 40v26" stroke="#fff" stroke-width="3" fill="none"/></svg>`
  return `data:image/svg+xml,${encodeURIComponent(svg)}`
}

/**
 * The user's decision on a tool that waited for approval, from the history the AI SDK resends:
 * the last assistant message's tool part in `approval-responded` (with `approval.approved`) or
 * `output-denied` (ai 6/7 UIToolInvocation).
 */
function approvalDecision(messages: unknown): { toolName: string; approved: boolean } | undefined {
  if (!Array.isArray(messages)) return undefined
  const last = messages.at(-1) as { role?: unknown; parts?: unknown } | undefined
  if (last?.role !== 'assistant' || !Array.isArray(last.parts)) return undefined
  for (const part of last.parts as Array<{ type?: unknown; state?: unknown; approval?: { approved?: unknown } }>) {
    if (typeof part?.type !== 'string' || !part.type.startsWith('tool-')) continue
    if (part.state === 'approval-responded') return { toolName: part.type.slice(5), approved: part.approval?.approved === true }
    if (part.state === 'output-denied') return { toolName: part.type.slice(5), approved: false }
  }
  return undefined
}

/** The result the browser sent for a pending client-side tool (AI SDK 5 tool part, `output-available`). */
function clientToolResult(messages: unknown): unknown {
  if (!Array.isArray(messages)) return undefined
  const last = messages.at(-1) as { role?: unknown; parts?: unknown } | undefined
  if (last?.role !== 'assistant' || !Array.isArray(last.parts)) return undefined
  const part = (last.parts as Array<{ type?: unknown; state?: unknown; output?: unknown }>).find(
    (p) => p?.type === `tool-${CLIENT_TOOL}` && p.state === 'output-available'
  )
  return part?.output
}

/**
 * What the answer cost, in the fields Agent Studio reports (issue 24). Algolia's spec
 * (algolia/api-clients-automation specs/agent-studio/common/schemas/): UsageV5.yml has
 * `inputTokens`, `outputTokens`, `reasoningTokens`, `totalTokens` (the `usage` of
 * AssistantMessageV5Response); MessageResponse.yml adds `inputTokenDetails` (an open map of
 * integers) and `isCacheHit`. The stand-in sends them in `usage` (stream=false) and in the
 * stream's `message-metadata` (the AI SDK's place for message metadata; the names of Agent
 * Studio's own `data-*-usage` stream parts are unpublished: DataPartV5.yml only names the
 * pattern). Counts are fixed so tests can assert them: 12 in, 24 out; `[tokens=N]` in the
 * question makes the answer cost N output tokens, `[think]` adds 8 reasoning tokens, and a chat
 * with history reports 4 of its input tokens as read from the provider's prompt cache.
 */
function usageFor(messages: unknown, question: string): Record<string, unknown> {
  const asked = /\[tokens=(\d{1,9})\]/.exec(question)
  const input = 12
  const output = asked === null ? 24 : Number(asked[1])
  const cached = Array.isArray(messages) && messages.length > 1 ? 4 : 0
  return {
    inputTokens: input,
    outputTokens: output,
    reasoningTokens: question.includes('[think]') ? 8 : 0,
    totalTokens: input + output,
    ...(cached > 0 ? { inputTokenDetails: { cacheReadTokens: cached } } : {})
  }
}

/** The text of the last user message, whatever the message shape (AI SDK 4 `content`, AI SDK 5 `parts`, AG-UI `content`). */
export function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return ''
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as { role?: unknown; content?: unknown; parts?: unknown }
    if (message?.role !== 'user') continue
    if (typeof message.content === 'string') return message.content
    if (Array.isArray(message.parts)) {
      return message.parts.map((part: { type?: unknown; text?: unknown }) => (part?.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('')
    }
  }
  return ''
}

/** A short, deterministic reply split into the pieces that are streamed one event each. */
export function answerPieces(question: string): string[] {
  const quoted = question.length > 80 ? `${question.slice(0, 80)}…` : question
  return words(`You asked: "${quoted}". This answer comes from the Agent Studio stand-in, streamed word by word through the gateway.`)
}

function words(sentence: string): string[] {
  return sentence.split(/(?<= )/)
}

/** The whole text of an answer (stream=false, titles). */
export function answerText(plan: AnswerPlan): string {
  return plan.steps.map((step) => (step.text ?? []).join('')).join('')
}
