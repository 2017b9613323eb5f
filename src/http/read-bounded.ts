import type { Readable } from 'node:stream'
import { UpstreamError } from '../errors.js'

/**
 * Most bytes the gateway reads from an upstream body it parses itself (conversation answers it
 * rewrites, the session endpoint, the key audit, error bodies). Those answers are a few kilobytes; an endless upstream
 * body once took the process to 2.7 GB (issue 11).
 */
export const UPSTREAM_READ_LIMIT_BYTES = 1024 * 1024

/**
 * Reads a whole body as UTF-8, at most `limit` bytes: beyond it the body is destroyed (the
 * connection goes, no more bytes are read) and the call fails as `502 upstream_error`.
 * Errors of the stream itself (a body timeout, an abort) are rethrown unchanged, so the caller
 * can map a timeout to 504.
 */
export async function readBoundedText(body: Readable, limit: number = UPSTREAM_READ_LIMIT_BYTES): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) {
      body.destroy()
      throw new UpstreamError({ cause: new Error(`upstream body exceeds ${limit} bytes`) })
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, size).toString('utf8')
}
