import type { FastifyRequest } from 'fastify'
import { InvalidRequest } from '../errors.js'

/**
 * Deepest nesting of objects and arrays a request body may have. Real bodies (AI SDK messages
 * with tool inputs and outputs) stay far below; 10,000 levels in 20 KB used to overflow the
 * stack of the schema validator and answer `500 internal_error` with an error-level stack
 * trace in the log (issue 11).
 */
export const MAX_JSON_DEPTH = 64

const OPEN_OBJECT = 0x7b
const OPEN_ARRAY = 0x5b
const CLOSE_OBJECT = 0x7d
const CLOSE_ARRAY = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c

/**
 * One pass over the text, before anything recursive sees it: true when brackets outside strings
 * nest deeper than `max`. (No JSON library we found bounds depth; this is the whole check.)
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) {
      inString = true
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) return true
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--
    }
  }
  return false
}

/** Wraps Fastify's JSON parser (proto-poisoning checks included) with the depth bound. */
type Done = (error: Error | null, body?: unknown) => void
type JsonParser = (request: FastifyRequest, body: string, done: Done) => void

export function depthBoundedJsonParser(parse: JsonParser): JsonParser {
  return function parseBoundedJson(request, body, done) {
    if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
      done(new InvalidRequest(`the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`), undefined)
      return
    }
    parse(request, body, done)
  }
}
