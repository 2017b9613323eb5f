import { DiagLogLevel, ROOT_CONTEXT, TraceFlags, context, defaultTextMapGetter, diag } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, SimpleSpanProcessor, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base'
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import proxyAddr from '@fastify/proxy-addr'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { TracingConfig } from '../config/types.js'
import { allowListedExporter } from './span-allow-list.js'

/** Routes scraped or probed every few seconds: a span each would drown the traces that matter. */
const UNTRACED = new Set(['/metrics', '/healthz', '/readyz'])

/**
 * OpenTelemetry with the official instrumentations only: @fastify/otel (a span per request, per
 * hook — session, limits, policy — and per handler) and @opentelemetry/instrumentation-undici
 * (the upstream call, with its time to first byte). Loaded only when tracing is on.
 *
 * No global propagator is registered, on purpose: incoming trace context is honoured only from
 * the peers TRACE_PARENT_FROM names (below), and nothing is added to the upstream request behind
 * the header boundary's back (undici's instrumentation injects through the global propagator, a
 * no-op here).
 *
 * Issue 19: a client with an allowed Origin chose trace ids and forced sampling (at ratio 0, 21
 * requests exported 171 spans). Now the gateway alone decides: the sampler is the trace-id
 * ratio for every trace, continued or not (an incoming `sampled` flag is ignored; services with
 * the same ratio still agree, since the decision is a function of the trace id), and what a
 * span carries is cut to an allow-list at export (span-allow-list.ts).
 */
export interface Tracing {
  /** Adds the trace-parent check and @fastify/otel to the app: before any route or other hook. */
  register(app: FastifyInstance): Promise<void>
  /** Flushes the spans still buffered and stops the instrumentations. */
  shutdown(): Promise<void>
}

export function createOtelTracing(config: TracingConfig, logger: Logger, exporter?: SpanExporter): Tracing {
  // OpenTelemetry reports its own trouble (a collector that refuses exports, …) through `diag`,
  // silent by default: ops would see traces missing and nothing in the log. Message only: its
  // arguments can hold the exporter's request options.
  const report = (message: string) => logger.warn(`OpenTelemetry: ${message}`)
  diag.setLogger(
    { error: report, warn: report, info: () => undefined, debug: () => undefined, verbose: () => undefined },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true }
  )
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: new TraceIdRatioBasedSampler(config.sampleRatio),
    // Tests pass an in-memory exporter and see each span as it ends; both go through the allow-list.
    spanProcessors: [
      exporter === undefined
        ? new BatchSpanProcessor(allowListedExporter(new OTLPTraceExporter({ url: config.tracesUrl.href })))
        : new SimpleSpanProcessor(allowListedExporter(exporter))
    ]
  })
  // The async-local-storage context manager, so spans started deep in a handler find their parent.
  provider.register({ propagator: null })

  const sentAt = new WeakMap<object, number>()
  const undici = new UndiciInstrumentation({
    // Background calls (JWKS refresh, key audit) are not part of any request's trace.
    requireParentforSpans: true,
    requestHook: (_span, request) => sentAt.set(request, performance.now()),
    responseHook: (span, { request }) => {
      const started = sentAt.get(request)
      span.addEvent('first byte')
      if (started !== undefined) span.setAttribute('gateway.upstream.ttfb_ms', Math.round(performance.now() - started))
    }
  })
  undici.setTracerProvider(provider)

  const fastifyOtel = new FastifyOtelInstrumentation({
    ignorePaths: (route: { url: string }) => UNTRACED.has(pathOf(route.url)),
    // Only sampled traces are named on the log line: an id that no backend holds would mislead.
    requestHook: (span, request: FastifyRequest) => {
      const spanContext = span.spanContext()
      if ((spanContext.traceFlags & TraceFlags.SAMPLED) !== 0 && request.summary !== null) request.summary.traceId = spanContext.traceId
    }
  })
  fastifyOtel.setTracerProvider(provider)

  const continuesTrace = parentTrust(config)
  const w3c = new W3CTraceContextPropagator()

  return {
    async register(app: FastifyInstance) {
      // Before @fastify/otel's own onRequest hook, which takes the active context as the parent.
      app.addHook('onRequest', function traceParent(request, reply, done) {
        reply.raw.once('close', () => endStreamedRequestSpan(request, reply))
        if (request.headers.traceparent === undefined || !continuesTrace(request.socket.remoteAddress)) return done()
        context.with(w3c.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter), done)
      })
      await app.register(fastifyOtel.plugin())
    },
    async shutdown() {
      fastifyOtel.disable()
      undici.disable()
      await provider.shutdown()
    }
  }
}

/**
 * Whose trace context is continued, judged on the TCP peer (never on a header a client writes):
 * with `trusted-proxies`, a proxy in TRUSTED_PROXIES (it started or checked the trace);
 * `any` is for a proxy that strips trace headers from clients itself.
 */
function parentTrust(config: TracingConfig): (peer: string | undefined) => boolean {
  if (config.parentFrom === 'any') return () => true
  if (config.parentFrom === 'none' || config.trustedProxies.length === 0) return () => false
  const trusted = proxyAddr.compile([...config.trustedProxies])
  return (peer) => peer !== undefined && trusted(peer, 0)
}

/**
 * @fastify/otel ends the request span in onSend, which a hijacked (streamed) reply never runs:
 * such a span ends here, when the connection is done with the response, so it spans the stream.
 */
function endStreamedRequestSpan(request: FastifyRequest, reply: FastifyReply): void {
  const span = request.opentelemetry().span
  if (span === undefined || span === null || !span.isRecording()) return
  span.setAttribute('http.response.status_code', reply.raw.statusCode)
  span.end()
}

function pathOf(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}
