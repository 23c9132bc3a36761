/**
 * Database latency of demand reads, per model and operation: a slow average (the baseline) and
 * a fast one (now). Used to estimate what a prefetch saves and to see database pressure.
 * Bounded by the client's models times the read operations.
 */
export class Latencies {
  private readonly byQuery = new Map<string, { baseline: number; recent: number; samples: number }>()

  /** Samples before the baseline is trusted to judge pressure. */
  static readonly WARM_UP = 20
  /** Recent latency above this multiple of the baseline is pressure. */
  static readonly PRESSURE_RATIO = 2

  record(model: string, operation: string, ms: number): void {
    const key = `${model}.${operation}`
    const seen = this.byQuery.get(key)
    if (seen === undefined) {
      this.byQuery.set(key, { baseline: ms, recent: ms, samples: 1 })
      return
    }
    seen.samples++
    // The baseline follows slowly (and falls faster than it rises), the recent average quickly.
    seen.baseline += (ms < seen.baseline ? 0.05 : 0.01) * (ms - seen.baseline)
    seen.recent += 0.2 * (ms - seen.recent)
  }

  /** Expected milliseconds a read of this kind takes at the database (1 when never measured). */
  expected(model: string, operation: string): number {
    return this.byQuery.get(`${model}.${operation}`)?.baseline ?? 1
  }

  /** Whether reads of this kind have recently become much slower than usual. */
  underPressure(model: string, operation: string): boolean {
    const seen = this.byQuery.get(`${model}.${operation}`)
    return seen !== undefined && seen.samples >= Latencies.WARM_UP && seen.recent > Latencies.PRESSURE_RATIO * seen.baseline
  }
}
