import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'
import type { TracingConfig } from '../config/types.js'

export interface Tracing {
  /** Adds the trace-parent check and @fastify/otel to the app: before any route or other hook. */
  register(app: FastifyInstance): Promise<void>
  /** Flushes the spans still buffered and stops the instrumentations. */
  shutdown(): Promise<void>
}

/**
 * Tracing off costs nothing: OpenTelemetry is not even loaded (a dynamic import, only when
 * config.tracing is set), no hook is added, no span is made. bench/tracing.ts measures it.
 */
export async function loadTracing(config: TracingConfig | undefined, logger: Logger, exporter?: SpanExporter): Promise<Tracing | undefined> {
  if (config === undefined) return undefined
  const { createOtelTracing } = await import('./otel.js')
  return createOtelTracing(config, logger, exporter)
}
