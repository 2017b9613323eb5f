import type { CompatibilityMode } from '../config/types.js'

/**
 * Issue 24: the tokens an answer cost, read from what Agent Studio sends, without any
 * provider-specific parsing. The shapes, from Algolia's spec (algolia/api-clients-automation,
 * specs/agent-studio/common/schemas/):
 * - `stream=false` answers: AssistantMessageV5Response / AssistantMessageV4Response carry `usage`
 *   (UsageV5.yml: `inputTokens`, `outputTokens`, `reasoningTokens`, `totalTokens`; UsageV4.yml:
 *   `promptTokens`, `completionTokens`, `reasoningTokens`, `totalTokens`) and `stepsUsages` (one
 *   per step).
 * - Stored messages (MessageResponse.yml): `inputTokens`, `outputTokens`, `reasoningTokens`,
 *   `inputTokenDetails` and `outputTokenDetails` (open maps of integers) and `isCacheHit`.
 * - Streams: DataPartV5.yml says the stream emits usage parts `data-*-usage` (names unpublished);
 *   the AI SDK's own UI message stream carries metadata in `message-metadata`, `start` and
 *   `finish` chunks (`messageMetadata`, `uiMessageChunkSchema` in the `ai` package), where usage
 *   goes by the AI SDK's convention; the AI SDK 4 data stream carries `usage` on `e` (step
 *   finish) and `d` (finish) lines.
 *
 * So the reader is tolerant: any of those places, any of those field names, absent or unknown
 * fields ignored, numbers that are not non-negative safe integers ignored. A message-level
 * reading (the last one seen) wins over the sum of per-step readings, so a stream that reports
 * both is not counted twice.
 */
export interface TokenUsage {
  readonly input: number
  readonly output: number
  readonly reasoning: number
  /** Input tokens served from the provider's prompt cache (included in `input`). */
  readonly cached: number
  /** `totalTokens` when reported, else input + output. */
  readonly total: number
  /** Agent Studio answered from its completion cache (`isCacheHit`, or `x-cache: HIT`): no LLM ran. */
  readonly cacheHit: boolean
}

interface Reading {
  input?: number
  output?: number
  reasoning?: number
  cached?: number
  total?: number
  cacheHit?: boolean
}

const count = (value: unknown): number | undefined => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined)
const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

/** One usage object, in any of the known spellings; undefined when it holds no known count. */
export function readUsageObject(value: unknown): Reading | undefined {
  if (!isObject(value)) return undefined
  const inputDetails = isObject(value.inputTokenDetails) ? value.inputTokenDetails : {}
  const outputDetails = isObject(value.outputTokenDetails) ? value.outputTokenDetails : {}
  const reading: Reading = {}
  const input = count(value.inputTokens) ?? count(value.promptTokens)
  const output = count(value.outputTokens) ?? count(value.completionTokens)
  const reasoning = count(value.reasoningTokens) ?? count(outputDetails.reasoningTokens)
  // The AI SDK's names (cacheReadTokens; cachedInputTokens in ai 5), and OpenAI's as a provider may pass them on.
  const cached = count(inputDetails.cacheReadTokens) ?? count(inputDetails.cachedTokens) ?? count(inputDetails.cached_tokens) ?? count(value.cachedInputTokens)
  const total = count(value.totalTokens)
  if (input !== undefined) reading.input = input
  if (output !== undefined) reading.output = output
  if (reasoning !== undefined) reading.reasoning = reasoning
  if (cached !== undefined) reading.cached = cached
  if (total !== undefined) reading.total = total
  if (typeof value.isCacheHit === 'boolean') reading.cacheHit = value.isCacheHit
  return Object.keys(reading).length === 0 ? undefined : reading
}

/** Collects readings as an answer passes; `result()` at its end. */
class UsageCollector {
  #message: Reading | undefined
  readonly #steps: Reading[] = []
  #cacheHit = false

  message(reading: Reading | undefined): void {
    if (reading === undefined) return
    if (reading.cacheHit === true) this.#cacheHit = true
    // Keep what an earlier message-level reading had and this one lacks (metadata may come in pieces).
    this.#message = { ...this.#message, ...reading }
  }

  step(reading: Reading | undefined): void {
    if (reading === undefined) return
    if (reading.cacheHit === true) this.#cacheHit = true
    this.#steps.push(reading)
  }

  cacheHit(): void {
    this.#cacheHit = true
  }

  result(): TokenUsage | undefined {
    let reading = this.#message
    if (reading === undefined && this.#steps.length > 0) {
      const sum = (field: 'input' | 'output' | 'reasoning' | 'cached' | 'total') => this.#steps.reduce((acc, step) => acc + (step[field] ?? 0), 0)
      const anyTotal = this.#steps.some((step) => step.total !== undefined)
      reading = { input: sum('input'), output: sum('output'), reasoning: sum('reasoning'), cached: sum('cached'), ...(anyTotal ? { total: sum('total') } : {}) }
    }
    if (reading === undefined) return this.#cacheHit ? { input: 0, output: 0, reasoning: 0, cached: 0, total: 0, cacheHit: true } : undefined
    // Upstream bytes are hostile too: one answer counts at most MAX_TOKENS_PER_ANSWER of each kind
    // (a reported 2^53 would empty every budget of the user and the tenant at once, and overflow
    // the store's counters), and never less than its input and output together.
    const input = Math.min(reading.input ?? 0, MAX_TOKENS_PER_ANSWER)
    const output = Math.min(reading.output ?? 0, MAX_TOKENS_PER_ANSWER)
    const reported = reading.total !== undefined && reading.total > 0 ? Math.min(reading.total, MAX_TOKENS_PER_ANSWER) : 0
    return {
      input,
      output,
      reasoning: Math.min(reading.reasoning ?? 0, MAX_TOKENS_PER_ANSWER),
      cached: Math.min(reading.cached ?? 0, MAX_TOKENS_PER_ANSWER),
      total: Math.max(reported, Math.min(input + output, MAX_TOKENS_PER_ANSWER)),
      cacheHit: this.#cacheHit || reading.cacheHit === true
    }
  }
}

/** Whole events (src/upstream/event-boundary.ts) of a stream, or the chunks of a JSON answer; `end()` once. */
export interface UsageTap {
  push(bytes: Buffer): void
  /** Agent Studio said the answer came from its cache (`x-cache: HIT`). */
  cacheHit(): void
  end(): TokenUsage | undefined
}

/** The most tokens of one kind one answer can be charged: far above any model's context window. */
export const MAX_TOKENS_PER_ANSWER = 2_000_000

/** JSON answers are read whole only up to this; a larger one is relayed but its usage is not known. */
const JSON_LIMIT_BYTES = 1024 * 1024
// Every usage field name ends in "Tokens": events without it are passed over with one search.
const NEEDLE = Buffer.from('Tokens')
const DATA_USAGE = /^data-[\w-]*usage$/

export function usageTap(mode: CompatibilityMode | 'json'): UsageTap {
  const collector = new UsageCollector()
  if (mode === 'json') {
    const chunks: Buffer[] = []
    let size = 0
    return {
      push(bytes) {
        size += bytes.length
        if (size <= JSON_LIMIT_BYTES) chunks.push(bytes)
      },
      cacheHit: () => collector.cacheHit(),
      end() {
        if (size <= JSON_LIMIT_BYTES) readJsonAnswer(Buffer.concat(chunks).toString('utf8'), collector)
        return collector.result()
      }
    }
  }
  const read = mode === 'ai-sdk-4' ? readDataStreamLine : readSseEvent
  const separator = mode === 'ai-sdk-4' ? '\n' : '\n\n'
  return {
    push(bytes) {
      if (bytes.indexOf(NEEDLE) === -1) return
      for (const event of bytes.toString('utf8').split(separator)) if (event.includes('Tokens')) read(event, collector)
    },
    cacheHit: () => collector.cacheHit(),
    end: () => collector.result()
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function readJsonAnswer(text: string, collector: UsageCollector): void {
  const answer = parse(text)
  if (!isObject(answer)) return
  if (typeof answer.isCacheHit === 'boolean' && answer.isCacheHit) collector.cacheHit()
  const usage = readUsageObject(answer.usage)
  if (usage !== undefined) collector.message(usage)
  else if (Array.isArray(answer.stepsUsages)) for (const step of answer.stepsUsages) collector.step(readUsageObject(step))
}

/** One SSE event (`data: {json}` lines): AI SDK 5 UI message chunks, AG-UI events. */
function readSseEvent(event: string, collector: UsageCollector): void {
  for (const line of event.split('\n')) {
    if (!line.startsWith('data:')) continue
    const chunk = parse(line.slice(5).trim())
    if (!isObject(chunk)) continue
    const type = typeof chunk.type === 'string' ? chunk.type : ''
    if (DATA_USAGE.test(type)) {
      const reading = readUsageObject(chunk.data)
      if (type.includes('step')) collector.step(reading)
      else collector.message(reading)
      continue
    }
    if (isObject(chunk.messageMetadata)) {
      const metadata = chunk.messageMetadata
      collector.message(readUsageObject(metadata.usage) ?? readUsageObject(metadata))
      if (metadata.isCacheHit === true) collector.cacheHit()
      continue
    }
    // Any other event that says `usage` (a finish part of a later protocol version, AG-UI's RUN_FINISHED result).
    if (isObject(chunk.usage)) collector.message(readUsageObject(chunk.usage))
  }
}

/** One line of the AI SDK 4 data stream: `e:` (step finish) and `d:` (finish) carry `usage`. */
function readDataStreamLine(line: string, collector: UsageCollector): void {
  const colon = line.indexOf(':')
  if (colon === -1) return
  const code = line.slice(0, colon)
  if (code !== 'e' && code !== 'd') return
  const part = parse(line.slice(colon + 1))
  if (!isObject(part)) return
  const reading = readUsageObject(part.usage)
  if (code === 'd') collector.message(reading)
  else collector.step(reading)
}
