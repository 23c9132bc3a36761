import type { Counters, ErrorCounters, PrefetchCounters, PrefetchStats, StrategyCounters, TimelinePoint } from './types.ts'

type CounterName = keyof Counters

export function emptyCounters(): Counters {
  return { reads: 0, hits: 0, misses: 0, prefetchHits: 0, lateHits: 0, writes: 0, invalidations: 0, dbQueries: 0 }
}

export function emptyPrefetch(): PrefetchCounters {
  return { issued: 0, completed: 0, failed: 0, used: 0, wasted: 0, expired: 0, skipped: {} }
}

/** Points the timeline keeps at most; when full, every other one goes and the interval doubles. */
const TIMELINE_POINTS = 240
const TIMELINE_FIRST_INTERVAL_MS = 1000

export function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole
}

/**
 * Counters of one extension instance. Per-model maps are bounded by the client's models, so
 * they cannot grow without limit.
 */
export class Stats {
  private totals = emptyCounters()
  private models = new Map<string, Counters>()
  private prefetch = emptyPrefetch()
  private errors: ErrorCounters = { store: 0, timeouts: 0, decode: 0, predict: 0 }
  private strategies = new Map<string, StrategyCounters>()
  private savedMs = 0
  private points: TimelinePoint[] = []
  private interval = TIMELINE_FIRST_INTERVAL_MS

  constructor(private readonly now: () => number = Date.now) {}

  count(name: CounterName, model: string | undefined, by = 1): void {
    if (name === 'reads') this.sample()
    this.totals[name] += by
    if (model === undefined) return
    let counters = this.models.get(model)
    if (counters === undefined) {
      counters = emptyCounters()
      this.models.set(model, counters)
    }
    counters[name] += by
  }

  /** Counts speculative work, overall and for its strategy. */
  speculation(name: keyof StrategyCounters, strategy: string, by = 1): void {
    this.prefetch[name] += by
    let counters = this.strategies.get(strategy)
    if (counters === undefined) {
      counters = { issued: 0, completed: 0, failed: 0, used: 0, wasted: 0 }
      this.strategies.set(strategy, counters)
    }
    counters[name] += by
  }

  /** Milliseconds of database time a read did not wait for, thanks to a speculative result. */
  save(ms: number): void {
    if (ms > 0) this.savedMs += ms
  }

  /** The speculative counters as they stand (no copy of the rest). */
  snapshotPrefetch(): Readonly<PrefetchCounters> {
    return this.prefetch
  }

  /** A queued candidate that waited too long to run. */
  expire(): void {
    this.prefetch.expired++
  }

  /** A speculative result that expired, was invalidated or replaced before it served a read. */
  waste(strategy: string, by: 1 | -1): void {
    this.speculation('wasted', strategy, by)
  }

  /** A candidate that was not run, and why. */
  skip(reason: string): void {
    this.prefetch.skipped[reason] = (this.prefetch.skipped[reason] ?? 0) + 1
  }

  error(kind: keyof ErrorCounters): void {
    this.errors[kind]++
  }

  snapshot(
    l1: PrefetchStats['l1'] = { entries: 0, bytes: 0 },
    scheduler: PrefetchStats['scheduler'] = { queued: 0, inFlight: 0, limit: 0, threshold: 0 },
  ): PrefetchStats {
    const t = this.totals
    return {
      ...t,
      hitRate: ratio(t.hits, t.reads),
      precision: ratio(this.prefetch.used, this.prefetch.completed),
      coverage: ratio(t.prefetchHits + t.lateHits, t.reads),
      savedMs: this.savedMs,
      prefetch: { ...this.prefetch, skipped: { ...this.prefetch.skipped } },
      errors: { ...this.errors },
      l1,
      scheduler,
      byModel: Object.fromEntries([...this.models].map(([model, counters]) => [model, { ...counters }])),
      byStrategy: Object.fromEntries([...this.strategies].map(([strategy, counters]) => [strategy, { ...counters }])),
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
    return { at, reads: t.reads, hits: t.hits, misses: t.misses, prefetched: t.prefetchHits + t.lateHits, completed: this.prefetch.completed, used: this.prefetch.used }
  }

  reset(): void {
    this.points = []
    this.interval = TIMELINE_FIRST_INTERVAL_MS
    this.totals = emptyCounters()
    this.models.clear()
    this.prefetch = emptyPrefetch()
    this.errors = { store: 0, timeouts: 0, decode: 0, predict: 0 }
    this.strategies.clear()
    this.savedMs = 0
  }
}
