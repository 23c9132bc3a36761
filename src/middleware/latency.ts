/**
 * Database latency per model and operation: the baseline and the current average (to see
 * pressure) and what a prefetch of each kind of read saves.
 */

/** Warm samples kept per kind of read for `typical()`. */
const WARM_SAMPLES = 15

/**
 * Database latency of demand reads, per model and operation: a slow average (the baseline) and
 * a fast one (now), to see database pressure, and the latest warm samples, to estimate what a
 * prefetch saves. Bounded by the client's models times the read operations.
 */
export class Latencies {
  /** By model, then operation (no `model.operation` text made per read). */
  private readonly byQuery = new Map<string, Map<string, Latency>>()

  /** Samples before the baseline is trusted to judge pressure. */
  static readonly WARM_UP = 20
  /** Recent latency above this multiple of the baseline is pressure. */
  static readonly PRESSURE_RATIO = 2

  record(model: string, operation: string, ms: number): void {
    const seen = this.of(model, operation)
    if (seen === undefined) {
      // The first read of a kind is cold (connecting, planning the query): no warm sample.
      let byOperation = this.byQuery.get(model)
      if (byOperation === undefined) this.byQuery.set(model, (byOperation = new Map()))
      byOperation.set(operation, { baseline: ms, recent: ms, samples: 1, warm: [], next: 0 })
      return
    }
    seen.samples++
    if (seen.warm.length < WARM_SAMPLES) seen.warm.push(ms)
    else seen.warm[seen.next] = ms
    seen.next = (seen.next + 1) % WARM_SAMPLES
    // The baseline follows slowly (and falls faster than it rises), the recent average quickly.
    seen.baseline += (ms < seen.baseline ? 0.05 : 0.01) * (ms - seen.baseline)
    seen.recent += 0.2 * (ms - seen.recent)
  }

  /** Expected milliseconds a read of this kind takes at the database (1 when never measured). */
  expected(model: string, operation: string): number {
    return this.of(model, operation)?.baseline ?? 1
  }

  /**
   * The median of the latest warm demand reads of this kind (the first one measured is left
   * out), or undefined while there is none.
   */
  typical(model: string, operation: string): number | undefined {
    const warm = this.of(model, operation)?.warm
    if (warm === undefined || warm.length === 0) return undefined
    const sorted = [...warm].sort((a, b) => a - b)
    const middle = sorted.length >> 1
    return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
  }

  /** Whether reads of this kind have recently become much slower than usual. */
  underPressure(model: string, operation: string): boolean {
    const seen = this.of(model, operation)
    return seen !== undefined && seen.samples >= Latencies.WARM_UP && seen.recent > Latencies.PRESSURE_RATIO * seen.baseline
  }

  private of(model: string, operation: string): Latency | undefined {
    return this.byQuery.get(model)?.get(operation)
  }
}

/** What is measured of one kind of read. */
interface Latency {
  baseline: number
  recent: number
  samples: number
  warm: number[]
  next: number
}
