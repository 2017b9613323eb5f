import type { ReadVariable } from './environment.js'
import type { Settings } from './settings.js'
import type { TracingConfig } from './types.js'

/**
 * Tracing is on with TRACING_ENABLED or when an OTLP endpoint is given (the OpenTelemetry
 * convention); the endpoint is the collector's base URL, traces go to its /v1/traces.
 */
export function resolveTracing(read: ReadVariable, settings: Settings, problems: string[]): TracingConfig | undefined {
  // Issue 19: any client can send an allowed Origin; trust in trace context is now decided by
  // the connection's peer. Said loudly rather than ignored, so a deployment notices the change.
  if (read('TRACE_PARENT_ORIGINS') !== undefined)
    problems.push('TRACE_PARENT_ORIGINS: removed (an Origin header is whatever a non-browser client says); use TRACE_PARENT_FROM=trusted-proxies|none|any')
  const endpoint = read('OTEL_EXPORTER_OTLP_ENDPOINT')
  if (!settings.tracing.enabled && endpoint === undefined) return undefined
  let tracesUrl: URL
  try {
    tracesUrl = new URL('v1/traces', (endpoint ?? 'http://localhost:4318').replace(/\/?$/, '/'))
  } catch {
    problems.push('OTEL_EXPORTER_OTLP_ENDPOINT: not a URL (e.g. http://otel-collector:4318)')
    return undefined
  }
  return {
    tracesUrl,
    serviceName: read('OTEL_SERVICE_NAME') ?? 'agent-studio-gateway',
    parentFrom: settings.tracing.parentFrom,
    trustedProxies: settings.server.trustedProxies,
    sampleRatio: settings.tracing.sampleRatio
  }
}
