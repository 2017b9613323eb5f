import type { CompatibilityMode } from '../config/types.js'

/**
 * Relays a stream in whole events. Upstream chunks usually carry whole events; when one ends
 * mid-event, its unfinished tail is held until the rest arrives. Why (issue 10, item 8): if
 * the stream breaks, the gateway ends it with an error event in the client's protocol, and
 * that event must start on a fresh event boundary. Written after a partial line, it merges
 * with it (`data: {"type":"text-deldata: {"type":"error",…}`) and the client reports a parse
 * error instead of the message; written after a blank line that closes the partial event, the
 * AI SDK still rejects the broken event first and never reads ours. Holding the tail means a
 * cut drops the unfinished event and the client reads only whole events, then ours.
 *
 * In the common case (a chunk ends on a boundary) the chunk is passed on as it is: one
 * backwards search, no copy. A tail longer than HOLD_LIMIT is passed on unheld (an event that
 * large is not worth buffering); then `separator()` still starts the error event on a fresh
 * boundary (a blank line in SSE, a newline in the AI SDK 4 data stream).
 */
export interface EventBoundary {
  /** The bytes to write now, or undefined when all of it is an unfinished event. */
  push(chunk: Buffer): Buffer | undefined
  /** At the stream's normal end: whatever was held (upstream may omit the last separator). */
  flush(): Buffer | undefined
  /** What to write before an in-band error event so that it starts a fresh event. */
  separator(): string
}

export const HOLD_LIMIT = 256 * 1024

const LF_LF = Buffer.from('\n\n')
const LF_CRLF = Buffer.from('\n\r\n')

/** SSE (`ai-sdk-5`, `ag-ui`): events end with a blank line. AI SDK 4 data stream: one part per line. */
export function eventBoundary(mode: CompatibilityMode): EventBoundary {
  const sse = mode !== 'ai-sdk-4'
  const endOfLastEvent = sse ? endOfLastSseEvent : endOfLastLine
  let held: Buffer | undefined
  let atBoundary = true

  return {
    push(chunk) {
      const data = held === undefined ? chunk : Buffer.concat([held, chunk])
      const end = endOfLastEvent(data)
      if (end === data.length) {
        held = undefined
        atBoundary = true
        return data
      }
      if (end === 0) {
        if (data.length <= HOLD_LIMIT) {
          held = data
          return undefined
        }
        held = undefined
        atBoundary = false
        return data
      }
      held = Buffer.from(data.subarray(end))
      atBoundary = true
      return data.subarray(0, end)
    },
    flush() {
      const rest = held
      held = undefined
      if (rest !== undefined) atBoundary = false
      return rest
    },
    separator() {
      if (atBoundary) return ''
      return sse ? '\n\n' : '\n'
    }
  }
}

/** Index just past the last blank line (`\n\n` or `\r\n\r\n`), 0 if none. */
function endOfLastSseEvent(data: Buffer): number {
  const lf = data.lastIndexOf(LF_LF)
  const crlf = data.lastIndexOf(LF_CRLF)
  return Math.max(lf === -1 ? 0 : lf + 2, crlf === -1 ? 0 : crlf + 3)
}

function endOfLastLine(data: Buffer): number {
  return data.lastIndexOf(0x0a) + 1
}
