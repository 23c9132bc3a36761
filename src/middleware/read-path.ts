/**
 * The read path: a read outside transactions is served from a valid entry, from a row of a valid
 * cached list, or by joining an identical query in flight; otherwise it goes to the database
 * (read-through: its result is stored under the generations read before it was sent). Every
 * read that completes, and every one that starts at the database, is told to subscribers.
 */

import { cloneResult } from '../cache/clone.ts'
import type { Speculation } from '../cache/store.ts'
import type { ResolvedOptions } from '../options.ts'
import type { Stats } from '../stats.ts'
import type { CombinedRead, Combiner } from './combining.ts'
import type { DemandQueries, Query } from './demand.ts'
import type { QueryEntries } from './entries.ts'
import type { ReportError } from './errors.ts'
import type { Flights } from './flights.ts'
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

  async read(model: string, operation: string, args: unknown, query: Query): Promise<unknown> {
    this.stats.count('reads', model, 1, operation)
    if (!this.entries.cacheable(model, operation)) return this.miss(model, operation, query, args)
    // Awaited only when the store answers asynchronously: a hit from process memory makes no promise.
    const pending = this.entries.lookup(model, operation, args)
    const lookup = pending instanceof Promise ? await pending : pending
    if (lookup === undefined) return this.miss(model, operation, query, args)
    const { key, deps, gens, entry } = lookup
    this.shadow?.consume(key, model, operation)
    if (entry !== undefined) {
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
    if (gens === undefined) return this.miss(model, operation, query, args)

    if (operation === 'findUnique' || operation === 'findUniqueOrThrow') {
      const pendingRow = this.entries.rowFromList(lookup.scope, model, args)
      const found = pendingRow === undefined ? undefined : await pendingRow
      if (found !== undefined) {
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
    }

    const flight = this.flights.running(key, gens)
    if (flight !== undefined) {
      const joined = await this.flights.join(flight, model, operation)
      if (joined === undefined) return this.miss(model, operation, query, args)
      this.completed.emit({ model, operation, args, result: joined.value, deps, gens })
      return joined.value
    }

    this.stats.count('misses', model, 1, operation)
    this.stats.count('dbQueries', model)
    // Awaited only where combining can happen: elsewhere the read is sent in the same tick as before.
    const plan = this.combiner?.enabled === true ? await this.combiner.plan(model, operation, args) : undefined
    const startedAt = performance.now()
    const promise = plan === undefined ? this.demand.send(query, args) : this.combined(model, operation, args, query, plan)
    // In flight before anything is predicted from it: a speculative read of the same key joins it.
    const own = this.flights.start(key, promise, gens, undefined, startedAt)
    // After the query is on its way: reads predicted from its arguments alone go alongside it.
    this.started.emit({ model, operation, args })
    try {
      let result: unknown
      try {
        result = await promise
      } catch (error) {
        this.pressure.emit()
        throw error
      }
      const dbMs = performance.now() - startedAt
      this.latency.record(model, operation, dbMs)
      if (this.options.readThrough) this.entries.store(lookup, model, operation, args, result, gens, undefined)
      this.completed.emit({ model, operation, args, result, deps, gens, dbMs })
      return result
    } finally {
      this.flights.settle(key, own)
    }
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
