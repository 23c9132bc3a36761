/**
 * Shadow mode's ledger: the reads predicted and not made, remembered for their ttl as if their
 * results were cached, so that a later read of one counts as a prefetch hit and a use. Nothing is
 * sent to the database.
 */

import { LRUCache } from 'lru-cache'
import type { Speculation } from '../cache/store.ts'
import type { Stats } from '../stats.ts'
import type { SpeculationUsage } from './usage.ts'

interface Shadowed {
  speculation: Speculation
  storedAt: number
  ttl: number
}

export class ShadowReads {
  private readonly shadowed: LRUCache<string, Shadowed>

  constructor(
    maxEntries: number,
    private readonly stats: Stats,
    private readonly usage: SpeculationUsage,
    private readonly monotonic: () => number,
  ) {
    this.shadowed = new LRUCache({ max: maxEntries })
  }

  /**
   * Counts the reads `strategy` predicts (`keys`, those of reads that can be keyed) as issued and
   * completed, as if they had run, each served for `ttl` milliseconds.
   */
  record(keys: readonly string[], ttl: number, strategy: string): void {
    const speculation: Speculation = { strategy, used: false, live: 0 }
    const storedAt = this.monotonic()
    let fresh = false
    for (const key of keys) {
      if (this.shadowed.get(key)?.speculation.used === false) continue
      this.shadowed.set(key, { speculation, storedAt, ttl })
      fresh = true
    }
    if (!fresh) return this.stats.skip('cached')
    this.stats.speculation('issued', strategy)
    this.stats.speculation('completed', strategy)
  }

  /** A read of `key` (of `model`, by `operation`) is made: it is an on-time hit if it was predicted within its ttl. */
  consume(key: string, model: string, operation: string): void {
    const shadowed = this.shadowed.get(key)
    if (shadowed === undefined) return
    this.shadowed.delete(key)
    const age = this.monotonic() - shadowed.storedAt
    if (age >= 0 && age < shadowed.ttl) {
      // Shadow mode saves nothing: the read still goes to the database.
      this.stats.onTime(model, operation, shadowed.speculation.strategy, 0)
      this.usage.markUsed(shadowed.speculation)
    }
  }
}
