/**
 * Queries in flight, in one map (as dataloader keeps one promise cache): a read that finds an
 * identical query running under the same generations joins it instead of sending its own.
 * Starting a flight, joining it (counting the hit, and a late hit when the flight is
 * speculative) and settling it all happen here.
 */

import { cloneResult } from '../cache/clone.ts'
import type { Speculation } from '../cache/store.ts'
import type { Stats } from '../stats.ts'
import { sameTokens } from './entries.ts'
import type { SpeculationUsage } from './usage.ts'

/** A query in flight, shared by identical reads issued under the same generations. */
export interface Flight {
  readonly promise: Promise<unknown>
  readonly gens: readonly string[]
  /** performance.now() when it was sent. */
  readonly startedAt: number
  /** Set when the query is speculative. */
  readonly speculation?: Speculation
}

export class Flights {
  /**
   * The one flight of a key, held in two places: `soleKey` and `sole` (one flight, the common
   * case of reads that do not overlap), and the map, for the others. A key is in one or the
   * other, never both. A map that is emptied and filled again on every read reallocates its table
   * each time; the slot costs nothing.
   */
  private soleKey: string | undefined
  private sole: Flight | undefined
  private readonly flights = new Map<string, Flight>()

  constructor(
    private readonly stats: Stats,
    private readonly usage: SpeculationUsage,
  ) {}

  /** The flight of `key`, if one runs under the generations `gens` (else a read must send its own). */
  running(key: string, gens: readonly string[]): Flight | undefined {
    const flight = this.soleKey === key ? this.sole : this.flights.size === 0 ? undefined : this.flights.get(key)
    return flight !== undefined && sameTokens(flight.gens, gens) ? flight : undefined
  }

  /** Whether any flight of `key` runs (under whichever generations). */
  has(key: string): boolean {
    return this.soleKey === key || this.flights.has(key)
  }

  /** Registers `promise` as the flight of `key` (in place of any other of that key) until `settle()`. */
  start(key: string, promise: Promise<unknown>, gens: readonly string[], speculation?: Speculation, startedAt = performance.now()): Flight {
    const flight: Flight = { promise, gens, startedAt, speculation }
    if (this.soleKey === key || (this.soleKey === undefined && (this.flights.size === 0 || !this.flights.has(key)))) {
      this.soleKey = key
      this.sole = flight
    } else this.flights.set(key, flight)
    return flight
  }

  /**
   * Ends `flight`, once its owner has stored its result (so a read arriving in between finds the
   * entry or the flight, never neither); a newer flight of the same key is left alone.
   */
  settle(key: string, flight: Flight): void {
    if (this.soleKey === key) {
      if (this.sole === flight) {
        this.soleKey = undefined
        this.sole = undefined
      }
    } else if (this.flights.get(key) === flight) this.flights.delete(key)
  }

  /**
   * A read of `model` (its `operation`) joining `flight`: its own copy of the result, counted as a hit (a late hit
   * when the flight is speculative); undefined when the flight failed, and the read then runs
   * its own query so that its outcome is its own.
   */
  async join(flight: Flight, model: string, operation: string): Promise<{ value: unknown } | undefined> {
    const joinedAt = performance.now()
    let value: unknown
    try {
      value = cloneResult(await flight.promise)
    } catch {
      return undefined
    }
    this.stats.count('hits', model, 1, operation)
    if (flight.speculation !== undefined) {
      // What the read saved is the part of the query that had run before it joined; it waited
      // for the rest.
      this.stats.late(model, operation, flight.speculation.strategy, joinedAt - flight.startedAt, performance.now() - joinedAt)
    }
    this.usage.markUsed(flight.speculation)
    return { value }
  }
}
