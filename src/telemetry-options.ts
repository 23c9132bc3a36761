/**
 * The `telemetry` option: where OpenTelemetry data goes, as the few methods of a Meter, a Tracer
 * and a Span the extension calls (so the types need no `@opentelemetry/api`).
 */

/** Where OpenTelemetry data goes: a Meter and a Tracer of `@opentelemetry/api` (or alike). */
export interface TelemetryOptions {
  /** Counters and histograms are created on it. */
  meter?: MeterLike
  /** Speculative reads run in spans of it. */
  tracer?: TracerLike
}

/** The part of an OpenTelemetry `Meter` the extension uses (so the types need no `@opentelemetry/api`). */
export interface MeterLike {
  createCounter(name: string, options?: { description?: string; unit?: string }): { add(value: number, attributes?: Record<string, string>): void }
  createUpDownCounter(name: string, options?: { description?: string; unit?: string }): { add(value: number, attributes?: Record<string, string>): void }
  createHistogram(name: string, options?: { description?: string; unit?: string }): { record(value: number, attributes?: Record<string, string>): void }
}

/** The part of an OpenTelemetry `Tracer` the extension uses. */
export interface TracerLike {
  startActiveSpan<F extends (span: SpanLike) => unknown>(name: string, options: { attributes?: Record<string, string | boolean> }, fn: F): ReturnType<F>
}

/** The part of an OpenTelemetry `Span` the extension uses. */
export interface SpanLike {
  setStatus(status: { code: number; message?: string }): unknown
  end(): void
}
