/**
 * Precision bookkeeping of speculative results: the first read one serves makes it used, one that
 * served none and holds no entry any more is wasted, and the first read an entry serves on time
 * saves what a read of its kind typically waits.
 */

import type { Entry, Speculation } from '../cache/store.ts'
import type { Stats } from '../stats.ts'
import type { Latencies } from './latency.ts'

export class SpeculationUsage {
  constructor(
    private readonly stats: Stats,
    private readonly latency: Latencies,
  ) {}

  /** A speculative result none of whose entries could be kept, and that no reader joined, is wasted. */
  wasteIfUnused(speculation: Speculation): void {
    if (speculation.live > 0 || speculation.used || speculation.wasted) return
    speculation.wasted = true
    this.stats.waste(speculation.strategy, 1)
  }

  /** An entry of `speculation` left the process cache. */
  disposed(speculation: Speculation): void {
    speculation.live--
    this.wasteIfUnused(speculation)
  }

  /** The first read a speculative result serves makes it "used" (precision = used / completed). */
  markUsed(speculation: Speculation | undefined): void {
    if (speculation === undefined || speculation.used) return
    speculation.used = true
    // A reader that joined the query in flight may use it after its entry was already gone.
    if (speculation.wasted) this.stats.waste(speculation.strategy, -1)
    this.stats.speculation('used', speculation.strategy)
  }

  /**
   * The first read a speculative entry serves: it saves what a warm read of its kind typically
   * waits, never more than the speculative query itself took (see `PrefetchStats.savedMs`).
   */
  onTimeHit(model: string, operation: string, entry: Entry): void {
    const typical = this.latency.typical(model, operation) ?? 0
    const ran = entry.speculation?.ms
    this.stats.onTime(model, operation, entry.speculation?.strategy ?? entry.strategy ?? 'unknown', ran === undefined ? typical : Math.min(typical, ran))
  }
}
