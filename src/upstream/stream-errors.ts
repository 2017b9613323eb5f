import type { CompatibilityMode } from '../config/types.js'

const MESSAGE = 'The answer was interrupted before it finished. Please try again.'

/**
 * The last words written to a stream that broke after it started, in the protocol the client
 * speaks, so its UI shows an error instead of a silently truncated answer.
 */
export function streamErrorEvent(mode: CompatibilityMode | undefined): string | undefined {
  switch (mode) {
    case 'ai-sdk-5':
      return `data: ${JSON.stringify({ type: 'error', errorText: MESSAGE })}\n\n`
    case 'ai-sdk-4':
      return `3:${JSON.stringify(MESSAGE)}\n`
    case 'ag-ui':
      return `data: ${JSON.stringify({ type: 'RUN_ERROR', message: MESSAGE })}\n\n`
    default:
      return undefined
  }
}
