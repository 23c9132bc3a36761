/**
 * Counters and snapshots: what `$prefetch.stats()` returns, kept overall, per model and per
 * strategy, with the timeline the report draws.
 */

import type { Counters, ErrorCounters, ModelStats, OperationCounters, OperationStats, PrefetchCounters, PrefetchStats, StrategyCounters, StrategyStats, TimelinePoint } from './stats-types.ts'

type CounterName = keyof Counters

/**
 * What the counters are told, as it happens, for subscribers (the OpenTelemetry integration,
 * src/telemetry.ts): the same facts, in the same calls, as `stats()` sums up.
 */
export type StatsEvent =
  | { type: 'count'; name: CounterName; model: string | undefined; by: number }
  | { type: 'speculation'; name: keyof PrefetchCounters & keyof StrategyCounters; strategy: string; by: number }
  | { type: 'onTime'; model: string; strategy: string; savedMs: number }
  | { type: 'late'; model: string; strategy: string; savedMs: number; waitMs: number }
  | { type: 'expire' }
  | { type: 'skip'; reason: string }
  | { type: 'error'; kind: keyof ErrorCounters }

export function emptyCounters(): Counters {
  return { reads: 0, hits: 0, misses: 0, prefetchHits: 0, lateHits: 0, writes: 0, invalidations: 0, dbQueries: 0, savedMs: 0, lateSavedMs: 0, lateWaitMs: 0 }
}

export function emptyOperation(): OperationCounters {
  return { reads: 0, hits: 0, misses: 0, prefetchHits: 0, lateHits: 0, writes: 0 }
}

/** Whether a counter is also kept per operation. */
function perOperation(name: CounterName): name is CounterName & keyof OperationCounters {
  return name === 'reads' || name === 'hits' || name === 'misses' || name === 'prefetchHits' || name === 'lateHits' || name === 'writes'
}

/** An operation's counters with their ratios. */
export function operationStats(counters: OperationCounters): OperationStats {
  return {
    ...counters,
    hitRate: ratio(counters.hits, counters.reads),
    coverage: ratio(counters.prefetchHits, counters.reads),
    lateCoverage: ratio(counters.lateHits, counters.reads),
  }
}

export function emptyStrategy(): StrategyCounters {
  return { issued: 0, completed: 0, failed: 0, used: 0, wasted: 0, prefetchHits: 0, lateHits: 0, savedMs: 0 }
}

/** A model's counters with their ratios. */
export function modelStats(counters: Counters): ModelStats {
  return {
    ...counters,
    hitRate: ratio(counters.hits, counters.reads),
    coverage: ratio(counters.prefetchHits, counters.reads),
    lateCoverage: ratio(counters.lateHits, counters.reads),
  }
}

/** A strategy's counters with their ratios; coverage is over every read (`reads`). */
export function strategyStats(counters: StrategyCounters, reads: number): StrategyStats {
  return {
    ...counters,
    precision: ratio(counters.used, counters.completed),
    coverage: ratio(counters.prefetchHits, reads),
    lateCoverage: ratio(counters.lateHits, reads),
  }
}

/** The ratios of the totals that PrefetchStats adds to them. */
export function totalRatios(totals: Counters, prefetch: Pick<PrefetchCounters, 'used' | 'completed'>) {
  return {
    hitRate: ratio(totals.hits, totals.reads),
    precision: ratio(prefetch.used, prefetch.completed),
    coverage: ratio(totals.prefetchHits, totals.reads),
    lateCoverage: ratio(totals.lateHits, totals.reads),
    lateSavedShare: ratio(totals.lateSavedMs, totals.lateSavedMs + totals.lateWaitMs),
  }
}

export function emptyPrefetch(): PrefetchCounters {
  return { issued: 0, completed: 0, failed: 0, used: 0, wasted: 0, expired: 0, cpuBackoffMs: 0, cpuBackoffReads: 0, cpuBackoffSampledOut: 0, skipped: {} }
}

/** Points the timeline keeps at most; when full, every other one goes and the interval doubles. */
const TIMELINE_POINTS = 240
const TIMELINE_FIRST_INTERVAL_MS = 1000

export function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole
}

/**
 * Counters of one extension instance. Per-model maps are bounded by the client's models, and
 * per-operation ones by Prisma's operations, so they cannot grow without limit.
 */
export class Stats {
  private totals = emptyCounters()
  private models = new Map<string, Counters>()
  private operations = new Map<string, OperationCounters>()
  private prefetch = emptyPrefetch()
  private errors: ErrorCounters = { store: 0, timeouts: 0, decode: 0, predict: 0 }
  private strategies = new Map<string, StrategyCounters>()
  private points: TimelinePoint[] = []
  private interval = TIMELINE_FIRST_INTERVAL_MS
  /** Subscribers; none costs one length check per call. */
  private listeners: Array<(event: StatsEvent) => void> = []

  constructor(private readonly now: () => number = Date.now) {}

  /** Calls `listener` with every event from now on; returns the way to stop. */
  subscribe(listener: (event: StatsEvent) => void): () => void {
    this.listeners = [...this.listeners, listener]
    return () => void (this.listeners = this.listeners.filter((l) => l !== listener))
  }

  private emit(event: StatsEvent): void {
    for (const listener of this.listeners) {
      // A subscriber that throws must not cost the query that is being counted.
      try {
        listener(event)
      } catch {
        // ignored: counting goes on
      }
    }
  }

  /** Counts `by` of `name` overall, for `model` and, for reads and writes, for `operation`. */
  count(name: CounterName, model: string | undefined, by = 1, operation?: string): void {
    if (this.listeners.length !== 0) this.emit({ type: 'count', name, model, by })
    if (name === 'reads') this.sample()
    this.totals[name] += by
    if (operation !== undefined && perOperation(name)) {
      let counters = this.operations.get(operation)
      if (counters === undefined) {
        counters = emptyOperation()
        this.operations.set(operation, counters)
      }
      counters[name] += by
    }
    if (model === undefined) return
    let counters = this.models.get(model)
    if (counters === undefined) {
      counters = emptyCounters()
      this.models.set(model, counters)
    }
    counters[name] += by
  }

  /** Counts speculative work, overall and for its strategy. */
  speculation(name: keyof PrefetchCounters & keyof StrategyCounters, strategy: string, by = 1): void {
    if (this.listeners.length !== 0) this.emit({ type: 'speculation', name, strategy, by })
    this.prefetch[name] += by
    this.strategy(strategy)[name] += by
  }

  /**
   * A read served from a speculative result of `strategy` that was stored before it was asked,
   * saving `savedMs` (see `PrefetchStats.savedMs` for how it is bounded).
   */
  onTime(model: string, operation: string, strategy: string, savedMs: number): void {
    if (this.listeners.length !== 0) this.emit({ type: 'onTime', model, strategy, savedMs })
    this.count('prefetchHits', model, 1, operation)
    this.strategy(strategy).prefetchHits++
    this.credit(model, strategy, savedMs)
  }

  /**
   * A read that joined a speculative query of `strategy` in flight: `savedMs` is how long that
   * query had run when it joined, `waitMs` how long it still waited.
   */
  late(model: string, operation: string, strategy: string, savedMs: number, waitMs: number): void {
    if (this.listeners.length !== 0) this.emit({ type: 'late', model, strategy, savedMs, waitMs })
    this.count('lateHits', model, 1, operation)
    this.strategy(strategy).lateHits++
    this.credit(model, strategy, savedMs)
    if (savedMs > 0) this.count('lateSavedMs', model, savedMs)
    if (waitMs > 0) this.count('lateWaitMs', model, waitMs)
  }

  private credit(model: string, strategy: string, ms: number): void {
    if (!(ms > 0)) return
    this.count('savedMs', model, ms)
    this.strategy(strategy).savedMs += ms
  }

  private strategy(name: string): StrategyCounters {
    let counters = this.strategies.get(name)
    if (counters === undefined) {
      counters = emptyStrategy()
      this.strategies.set(name, counters)
    }
    return counters
  }

  /** The speculative counters as they stand (no copy of the rest). */
  snapshotPrefetch(): Readonly<PrefetchCounters> {
    return this.prefetch
  }

  /** A queued candidate that waited too long to run. */
  expire(): void {
    if (this.listeners.length !== 0) this.emit({ type: 'expire' })
    this.prefetch.expired++
  }

  /** A speculative result that expired, was invalidated or replaced before it served a read. */
  waste(strategy: string, by: 1 | -1): void {
    this.speculation('wasted', strategy, by)
  }

  /** Milliseconds speculation stayed paused because the event loop was busy. */
  cpuBackoff(ms: number): void {
    this.prefetch.cpuBackoffMs += ms
  }

  /** A read observed while the event loop was busy (no learned prediction made for it). */
  cpuBackoffRead(): void {
    this.prefetch.cpuBackoffReads++
  }

  /** An observation learning left out while the event loop was busy (`cpu.learnEvery`). */
  cpuSampledOut(): void {
    this.prefetch.cpuBackoffSampledOut++
  }

  /** A candidate that was not run, and why. */
  skip(reason: string): void {
    if (this.listeners.length !== 0) this.emit({ type: 'skip', reason })
    this.prefetch.skipped[reason] = (this.prefetch.skipped[reason] ?? 0) + 1
  }

  error(kind: keyof ErrorCounters): void {
    if (this.listeners.length !== 0) this.emit({ type: 'error', kind })
    this.errors[kind]++
  }

  snapshot(
    l1: PrefetchStats['l1'] = { entries: 0, bytes: 0 },
    scheduler: PrefetchStats['scheduler'] = { queued: 0, inFlight: 0, limit: 0, threshold: 0 },
  ): PrefetchStats {
    const t = this.totals
    return {
      ...t,
      ...totalRatios(t, this.prefetch),
      prefetch: { ...this.prefetch, skipped: { ...this.prefetch.skipped } },
      errors: { ...this.errors },
      l1,
      scheduler,
      byModel: Object.fromEntries([...this.models].map(([model, counters]) => [model, modelStats(counters)])),
      byStrategy: Object.fromEntries([...this.strategies].map(([strategy, counters]) => [strategy, strategyStats(counters, t.reads)])),
      byOperation: Object.fromEntries([...this.operations].map(([operation, counters]) => [operation, operationStats(counters)])),
    }
  }

  /** The counters over time: a point per interval in which reads happened, and one for now. */
  timeline(): TimelinePoint[] {
    return [...this.points, this.point(this.now())]
  }

  /** Takes a point when the last one is an interval old. Bounded: thins itself when full. */
  private sample(): void {
    const now = this.now()
    const last = this.points.at(-1)
    if (last !== undefined && now - last.at < this.interval) return
    if (this.points.length >= TIMELINE_POINTS) {
      this.points = this.points.filter((_, i) => i % 2 === 0)
      this.interval *= 2
    }
    this.points.push(this.point(now))
  }

  private point(at: number): TimelinePoint {
    const t = this.totals
    return { at, reads: t.reads, hits: t.hits, misses: t.misses, prefetched: t.prefetchHits, late: t.lateHits, completed: this.prefetch.completed, used: this.prefetch.used }
  }

  reset(): void {
    this.points = []
    this.interval = TIMELINE_FIRST_INTERVAL_MS
    this.totals = emptyCounters()
    this.models.clear()
    this.operations.clear()
    this.prefetch = emptyPrefetch()
    this.errors = { store: 0, timeouts: 0, decode: 0, predict: 0 }
    this.strategies.clear()
  }
}
