import type { ExportResult } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import type { Attributes } from '@opentelemetry/api'

/**
 * What a span may carry, decided in one place, at export: the instrumentations record more than
 * docs/operations.md (Tracing) promises (@fastify/otel's `url.path` is the raw URL with its query string;
 * undici's adds `url.full`, `url.query` and the browser's `user_agent.original`; an erasure's
 * upstream path holds the user id). Every attribute not listed here is dropped, and the paths
 * kept are reduced to templates, so no instrumentation upgrade can add a field silently.
 */
export const SPAN_ATTRIBUTES: ReadonlySet<string> = new Set([
  // @fastify/otel
  'http.request.method',
  'http.route',
  'http.response.status_code',
  'url.path',
  'hook.name',
  'fastify.type',
  'hook.callback.name',
  'fastify.root',
  // @opentelemetry/instrumentation-undici (the upstream call)
  'url.scheme',
  'server.address',
  'server.port',
  'network.peer.address',
  'network.peer.port',
  'network.protocol.version',
  'error.type',
  // ours
  'gateway.upstream.ttfb_ms',
  // Issue 24: OpenTelemetry GenAI semantic conventions, on a completion's request span (src/usage/usage-meter.ts)
  'gen_ai.operation.name',
  'gen_ai.agent.id',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.usage.reasoning.output_tokens'
])

/** Event attributes kept (an exception event keeps its type, never its message or stack). */
const EVENT_ATTRIBUTES: ReadonlySet<string> = new Set(['exception.type'])

/**
 * A path with no query string and with the ids that name a person or their conversation
 * replaced by their route parameter: conversation ids (the upstream's are `<digest of the user
 * id>_<client id>`), a resumed chat's id, and the user token of the user-data calls.
 */
function pathTemplate(path: string): string {
  const query = path.indexOf('?')
  return (query === -1 ? path : path.slice(0, query))
    .replace(/\/user-data\/[^/]+/, '/user-data/{userToken}')
    .replace(/\/conversations\/(?!export$)[^/]+/, '/conversations/{conversationId}')
    .replace(/\/completions\/[^/]+\/stream$/, '/completions/{chatId}/stream')
}

function allowed(attributes: Attributes, keep: ReadonlySet<string>): Attributes {
  const kept: Attributes = {}
  for (const [key, value] of Object.entries(attributes)) {
    if (!keep.has(key)) continue
    kept[key] = key === 'url.path' && typeof value === 'string' ? pathTemplate(value) : value
  }
  return kept
}

/** The span as exported: the same span, with only the allowed attributes and no status message. */
function scrub(span: ReadableSpan): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    // An error's message can quote what a client sent: the code says enough.
    status: { code: span.status.code },
    attributes: allowed(span.attributes, SPAN_ATTRIBUTES),
    links: [],
    events: span.events.map((event) => ({ name: event.name, time: event.time, attributes: allowed(event.attributes ?? {}, EVENT_ATTRIBUTES) })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount
  }
}

/** Wraps the exporter every span leaves through, so nothing reaches it unscrubbed. */
export function allowListedExporter(inner: SpanExporter): SpanExporter {
  return {
    export: (spans: ReadableSpan[], done: (result: ExportResult) => void) => inner.export(spans.map(scrub), done),
    shutdown: () => inner.shutdown(),
    ...(inner.forceFlush === undefined ? {} : { forceFlush: () => inner.forceFlush!() })
  }
}
