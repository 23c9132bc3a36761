/**
 * The OpenTelemetry integration: a subscriber of the counters' events (src/stats.ts), so the read
 * path makes no call of its own, and a span around each speculative read. Only the API is used,
 * never an SDK: the application chooses exporters (Prometheus, OTLP, ...).
 */

import { createRequire } from 'node:module'
import type { Stats, StatsEvent } from './stats.ts'
import type { MeterLike, SpanLike, TelemetryOptions, TracerLike } from './types.ts'

/** The scope name of the meter and tracer taken from the global API. */
const SCOPE = 'prisma-prefetch'

/** `telemetry: true`: the global meter and tracer. `@opentelemetry/api` is loaded only then. */
export function globalTelemetry(): Required<TelemetryOptions> {
  let api: { metrics: { getMeter(name: string): MeterLike }; trace: { getTracer(name: string): TracerLike } }
  try {
    // Synchronous (options are resolved when prefetch() is called) and lazy: the package is an
    // optional peer, which an application without telemetry does not install.
    api = createRequire(import.meta.url)('@opentelemetry/api') as typeof api
  } catch {
    throw new TypeError('prisma-prefetch: telemetry must be true only where @opentelemetry/api is installed (npm install @opentelemetry/api): true')
  }
  return { meter: api.metrics.getMeter(SCOPE), tracer: api.trace.getTracer(SCOPE) }
}

type Attributes = Record<string, string>

/** Counters and histograms for every event the counters see. */
function instruments(meter: MeterLike) {
  const counter = (name: string, description: string, unit: string) => meter.createCounter(`prisma_prefetch.${name}`, { description, unit })
  return {
    reads: counter('reads', 'Reads the extension handled', '{read}'),
    hits: counter('hits', 'Reads served from the cache (on-time and late hits included)', '{read}'),
    misses: counter('misses', 'Reads that went to the database', '{read}'),
    writes: counter('writes', 'Writes seen', '{write}'),
    invalidations: counter('invalidations', 'Models whose cached results a write or invalidate() dropped', '{model}'),
    dbQueries: counter('db_queries', 'Queries sent to the database, demand and speculative', '{query}'),
    onTime: counter('hits.on_time', 'Reads served by a speculative result stored before they were asked', '{read}'),
    late: counter('hits.late', 'Reads that joined a speculative query still in flight', '{read}'),
    issued: counter('prefetch.issued', 'Speculative reads started', '{query}'),
    completed: counter('prefetch.completed', 'Speculative reads that finished and were stored', '{query}'),
    failed: counter('prefetch.failed', 'Speculative reads that failed', '{query}'),
    used: counter('prefetch.used', 'Speculative results that served a read', '{query}'),
    // Up and down: a result counted wasted (expired, replaced) that serves a read after all is taken back.
    wasted: meter.createUpDownCounter('prisma_prefetch.prefetch.wasted', { description: 'Speculative results dropped before they served a read', unit: '{query}' }),
    expired: counter('prefetch.expired', 'Predicted reads that waited in the queue too long to run', '{query}'),
    skipped: counter('prefetch.skipped', 'Predicted reads not run, by reason', '{query}'),
    errors: counter('errors', 'Failures absorbed (the query went to the database), by kind: store, timeouts, decode, predict', '{error}'),
    saved: meter.createHistogram('prisma_prefetch.saved_time', { description: 'Database time a hit on a speculative result saved the reader', unit: 'ms' }),
    waited: meter.createHistogram('prisma_prefetch.late_wait', { description: 'How long a late hit still waited for the speculative query it joined', unit: 'ms' }),
  }
}

/** Subscribes the metrics to `stats`; returns the way to stop. */
export function recordMetrics(stats: Stats, meter: MeterLike): () => void {
  const m = instruments(meter)
  const byModel = (model: string | undefined): Attributes => (model === undefined ? {} : { model })
  return stats.subscribe((event: StatsEvent) => {
    switch (event.type) {
      case 'count': {
        const instrument = COUNTED[event.name]
        if (instrument !== undefined) m[instrument].add(event.by, byModel(event.model))
        return
      }
      case 'speculation':
        m[event.name].add(event.by, { strategy: event.strategy })
        return
      case 'onTime':
        m.onTime.add(1, { model: event.model, strategy: event.strategy })
        m.saved.record(Math.max(0, event.savedMs), { model: event.model, strategy: event.strategy, timing: 'on_time' })
        return
      case 'late':
        m.late.add(1, { model: event.model, strategy: event.strategy })
        m.saved.record(Math.max(0, event.savedMs), { model: event.model, strategy: event.strategy, timing: 'late' })
        m.waited.record(Math.max(0, event.waitMs), { model: event.model, strategy: event.strategy })
        return
      case 'expire':
        m.expired.add(1)
        return
      case 'skip':
        m.skipped.add(1, { reason: event.reason })
        return
      case 'error':
        m.errors.add(1, { kind: event.kind })
    }
  })
}

/** The counters that have an instrument of their own (hits on speculative results come with their strategy, above). */
const COUNTED: Partial<Record<Extract<StatsEvent, { type: 'count' }>['name'], 'reads' | 'hits' | 'misses' | 'writes' | 'invalidations' | 'dbQueries'>> = {
  reads: 'reads',
  hits: 'hits',
  misses: 'misses',
  writes: 'writes',
  invalidations: 'invalidations',
  dbQueries: 'dbQueries',
}

/** OpenTelemetry's SpanStatusCode.ERROR (the API is not imported for one number). */
const STATUS_ERROR = 2

/**
 * Runs a speculative read in a span of its own, marked so that traces tell it from the
 * application's queries; Prisma's spans, where its instrumentation is on, nest under it.
 */
export function tracedSpeculation(tracer: TracerLike) {
  return <T>(model: string, operation: string, run: () => Promise<T>): Promise<T> =>
    tracer.startActiveSpan(
      'prisma-prefetch speculative read',
      { attributes: { 'prisma_prefetch.speculative': true, 'prisma_prefetch.model': model, 'prisma_prefetch.operation': operation } },
      (span: SpanLike) => {
        let running: Promise<T>
        try {
          running = run()
        } catch (error) {
          running = Promise.reject(error)
        }
        return running.then(
          (result) => {
            span.end()
            return result
          },
          (error: unknown) => {
            span.setStatus({ code: STATUS_ERROR, message: error instanceof Error ? error.message : String(error) })
            span.end()
            throw error
          },
        )
      },
    )
}
