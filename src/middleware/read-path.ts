/**
 * The read path: a read outside transactions is served from a valid entry, from a row of a valid
 * cached list, or by joining an identical query in flight; otherwise it goes to the database
 * (read-through: its result is stored under the generations read before it was sent). Every
 * read that completes, and every one that starts at the database, is told to subscribers.
 */

import { cloneResult } from '../cache/clone.ts'
import type { Entry, Speculation } from '../cache/store.ts'
import type { ResolvedOptions } from '../options.ts'
import type { Stats } from '../stats.ts'
import type { CombinedRead, Combiner } from './combining.ts'
import type { DemandQueries, Query } from './demand.ts'
import type { Lookup, QueryEntries } from './entries.ts'
import type { ReportError } from './errors.ts'
import type { Flight, Flights } from './flights.ts'
import type { Latencies } from './latency.ts'
import type { ShadowReads } from './shadow.ts'
import { Signal } from './signal.ts'
import type { SpeculationUsage } from './usage.ts'

/** A read about to go to the database, before its result is known. */
export interface StartedRead {
  model: string
  operation: string
  args: unknown
}

/** A read that completed (from the cache or the database), as the predictors see it. */
export interface CompletedRead extends StartedRead {
  result: unknown
  /** The models the read depends on and their generations before it ran (when known). */
  deps: string[] | undefined
  gens: string[] | undefined
  /** Milliseconds the read took at the database, when it went there. */
  dbMs?: number
}

export class ReadPath {
  /** Adds to a read that goes to the database the read predicted to follow it (see Combiner). */
  private combiner: Combiner | undefined

  /** Every read completed outside transactions (hits included). */
  readonly completed = new Signal<CompletedRead>()
  /** Every read sent to the database, once it is on its way. */
  readonly started = new Signal<StartedRead>()

  constructor(
    private readonly options: ResolvedOptions,
    private readonly entries: QueryEntries,
    private readonly flights: Flights,
    private readonly demand: DemandQueries,
    private readonly stats: Stats,
    private readonly usage: SpeculationUsage,
    private readonly latency: Latencies,
    /** Told when the database shows strain: a failed read. */
    private readonly pressure: Signal,
    private readonly reportError: ReportError,
    private readonly shadow: ShadowReads | undefined,
  ) {}

  /** Combines reads with their followers from now on. */
  combineWith(combiner: Combiner): void {
    this.combiner = combiner
  }

  /**
   * Serves one read. Not an async function: a hit answered from process memory and a miss sent at
   * once make one promise each (the hit's, or the database promise's continuation) instead of an
   * async function's and those of its awaits; what waits for a store, a list or a flight goes on in
   * `readLater`. Whatever it throws is a rejection, as from an async function.
   */
  read(model: string, operation: string, args: unknown, query: Query): Promise<unknown> {
    try {
      this.stats.count('reads', model, 1, operation)
      if (!this.entries.cacheable(model, operation)) return this.miss(model, operation, query, args)
      // Awaited only when the store answers asynchronously: a hit from process memory makes no promise.
      const pending = this.entries.lookup(model, operation, args)
      if (pending instanceof Promise) return this.readLater(model, operation, args, query, pending)
      return this.afterLookup(model, operation, args, query, pending, true) as Promise<unknown>
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** read() once the store or the generations answered asynchronously. */
  private async readLater(model: string, operation: string, args: unknown, query: Query, pending: Promise<Lookup | undefined>): Promise<unknown> {
    return this.afterLookup(model, operation, args, query, await pending, false)
  }

  /**
   * What follows the lookup, answered at once or not: the entry's value (a hit; in a resolved
   * promise when `wrap`, as read() returns it, as it is for readLater's async return), a miss for a
   * read without a lookup or valid generations, a row of a cached list, a flight, or the database.
   */
  private afterLookup(model: string, operation: string, args: unknown, query: Query, lookup: Lookup | undefined, wrap: boolean): unknown {
    if (lookup === undefined) return this.miss(model, operation, query, args)
    const { key, gens, entry } = lookup
    this.shadow?.consume(key, model, operation)
    if (entry !== undefined) {
      const value = this.served(model, operation, args, query, entry)
      return wrap ? Promise.resolve(value) : value
    }
    if (gens === undefined) return this.miss(model, operation, query, args)
    if (operation === 'findUnique' || operation === 'findUniqueOrThrow') {
      const pendingRow = this.entries.rowFromList(lookup.scope, model, args)
      if (pendingRow !== undefined) return this.fromListOrFetch(model, operation, args, query, lookup, gens, pendingRow)
    }
    return this.joinOrFetch(model, operation, args, query, lookup, gens)
  }

  /** A valid entry's value, copied for the caller (a miss if it cannot be copied). */
  private served(model: string, operation: string, args: unknown, query: Query, entry: Entry): unknown {
    let value: unknown
    try {
      value = cloneResult(entry.value)
    } catch (error) {
      this.reportError(error, { phase: 'key', model, operation })
      return this.miss(model, operation, query, args)
    }
    if (entry.source === 'prefetch' && !entry.served) {
      entry.served = true
      this.usage.onTimeHit(model, operation, entry)
    }
    return this.hit(model, operation, args, value, entry.deps, entry.gens, entry.speculation)
  }

  /** A single-row read answered by a row of a valid cached list, if one holds it; else joinOrFetch. */
  private async fromListOrFetch(
    model: string,
    operation: string,
    args: unknown,
    query: Query,
    lookup: Lookup,
    gens: string[],
    pendingRow: Promise<{ row: unknown; list: Entry; position: number } | undefined>,
  ): Promise<unknown> {
    const found = await pendingRow
    if (found === undefined) return this.joinOrFetch(model, operation, args, query, lookup, gens)
    const { key, deps } = lookup
    const list = found.list
    if (list.source === 'prefetch' && !list.servedRows?.has(found.position)) {
      ;(list.servedRows ??= new Set()).add(found.position)
      this.usage.onTimeHit(model, operation, list)
    }
    // Kept under its own key and its row's generations too (when nothing the list read has
    // moved since it was sent): a write to another row of the model ends the list, not this.
    const own = this.options.readThrough ? this.entries.ownGenerations(deps, list.deps, list.gens) : undefined
    if (own !== undefined) this.entries.keep(key, model, found.row, deps, own, undefined)
    return this.hit(model, operation, args, found.row, list.deps, list.gens, list.speculation)
  }

  /** Joins an identical query in flight under the same generations, or sends the read. */
  private joinOrFetch(model: string, operation: string, args: unknown, query: Query, lookup: Lookup, gens: string[]): Promise<unknown> {
    const flight = this.flights.running(lookup.key, gens)
    if (flight !== undefined) return this.joined(model, operation, args, query, lookup, gens, flight)
    this.stats.count('misses', model, 1, operation)
    this.stats.count('dbQueries', model)
    // Awaited only where combining can happen: elsewhere the read is sent in the same tick as before.
    if (this.combiner?.enabled === true) return this.fetchCombined(model, operation, args, query, lookup, gens)
    return this.fetch(model, operation, args, query, lookup, gens, undefined)
  }

  private async joined(model: string, operation: string, args: unknown, query: Query, lookup: Lookup, gens: string[], flight: Flight): Promise<unknown> {
    const joined = await this.flights.join(flight, model, operation)
    if (joined === undefined) return this.miss(model, operation, query, args)
    this.completed.emit({ model, operation, args, result: joined.value, deps: lookup.deps, gens })
    return joined.value
  }

  private async fetchCombined(model: string, operation: string, args: unknown, query: Query, lookup: Lookup, gens: string[]): Promise<unknown> {
    const plan = await this.combiner!.plan(model, operation, args)
    return this.fetch(model, operation, args, query, lookup, gens, plan)
  }

  /**
   * Sends the read (read-through: its result is stored under `gens`, read before it was sent), in
   * flight under its key until it settles. The result is taken with one `then` on the query's
   * promise: no async function, no await.
   */
  private fetch(model: string, operation: string, args: unknown, query: Query, lookup: Lookup, gens: string[], plan: CombinedRead | undefined): Promise<unknown> {
    const { key, deps } = lookup
    const startedAt = performance.now()
    const promise = plan === undefined ? this.demand.send(query, args) : this.combined(model, operation, args, query, plan)
    // In flight before anything is predicted from it: a speculative read of the same key joins it.
    const own = this.flights.start(key, promise, gens, undefined, startedAt)
    // After the query is on its way: reads predicted from its arguments alone go alongside it.
    this.started.emit({ model, operation, args })
    return promise.then(
      (result) => {
        try {
          const dbMs = performance.now() - startedAt
          this.latency.record(model, operation, dbMs)
          if (this.options.readThrough) this.entries.store(lookup, model, operation, args, result, gens, undefined)
          this.completed.emit({ model, operation, args, result, deps, gens, dbMs })
          return result
        } finally {
          this.flights.settle(key, own)
        }
      },
      (error: unknown) => {
        try {
          this.pressure.emit()
        } finally {
          this.flights.settle(key, own)
        }
        throw error
      },
    )
  }

  /** Sends a read with its follower added; if Prisma refuses that, sends it as it is. */
  private combined(model: string, operation: string, args: unknown, query: Query, plan: CombinedRead): Promise<unknown> {
    return this.demand.send(query, plan.args).then(
      (result) => this.combiner!.finish(plan, result),
      (error: unknown) => {
        this.combiner!.refused(error, model, operation)
        this.stats.count('dbQueries', model)
        return this.demand.send(query, args)
      },
    )
  }

  /** A read served from the cache (an entry, or a row of a cached list). */
  private hit(model: string, operation: string, args: unknown, result: unknown, deps: string[], gens: string[], speculation: Speculation | undefined): unknown {
    this.stats.count('hits', model, 1, operation)
    this.usage.markUsed(speculation)
    this.completed.emit({ model, operation, args, result, deps, gens })
    return result
  }

  private miss(model: string, operation: string, query: Query, args: unknown): Promise<unknown> {
    this.stats.count('misses', model, 1, operation)
    this.stats.count('dbQueries', model)
    return this.demand.send(query, args)
  }
}
