import type { FastifyRequest } from 'fastify'
import { UnsupportedMediaType } from '../errors.js'

const JSON_CONTENT_TYPE = /^application\/json\s*(;|$)/i

/** Routes that take a body take JSON: checked in onRequest, before a byte of the body is read. */
export async function requireJson(request: FastifyRequest): Promise<void> {
  if (!JSON_CONTENT_TYPE.test(request.headers['content-type'] ?? '')) throw new UnsupportedMediaType()
}
