import type { Logger } from 'pino'
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'
import type { TracingConfig } from '../config/types.js'
// Type only: erased at compile time, so OpenTelemetry is still loaded only by the import below.
import type { Tracing } from './otel.js'

export type { Tracing } from './otel.js'

/**
 * Tracing off costs nothing: OpenTelemetry is not even loaded (a dynamic import, only when
 * config.tracing is set), no hook is added, no span is made. bench/tracing.ts measures it.
 */
export async function loadTracing(config: TracingConfig | undefined, logger: Logger, exporter?: SpanExporter): Promise<Tracing | undefined> {
  if (config === undefined) return undefined
  const { createOtelTracing } = await import('./otel.js')
  return createOtelTracing(config, logger, exporter)
}
