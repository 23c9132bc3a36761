/**
 * Runs speculative reads: one read (`warm`, and `warmAt` at this extension's hook), or one batched
 * read whose rows are each kept as the result of a single-row read (`warmRows`, a fan-out). Each
 * is skipped when its result is cached or in flight already, runs as a flight readers may join,
 * and is stored under the generations read before it was sent. Never throws: a failure is
 * counted and reported. In shadow mode the reads are only recorded.
 */

import { cloneResult } from '../cache/clone.ts'
import { estimateSize, type Speculation } from '../cache/store.ts'
import type { Stats } from '../stats.ts'
import { isPlainObject } from '../shared.ts'
import { sameValue } from '../strategies/values.ts'
import { coveredBy, type QueryEntries } from './entries.ts'
import type { ReportError } from './errors.ts'
import type { Flight, Flights } from './flights.ts'
import type { CompletedRead } from './read-path.ts'
import type { ShadowReads } from './shadow.ts'
import type { Signal } from './signal.ts'
import type { SpeculationUsage } from './usage.ts'

/** A batched read whose rows are each kept as the result of a single-row read. */
export interface RowsWarming {
  model: string
  /** The operation and arguments of the single-row read that `value` answers. */
  operation: string
  argsFor(value: unknown): Record<string, unknown>
  field: string
  /** Remove `field` from each row before keeping it (the batch selected it only to match rows). */
  strip: boolean
  values: unknown[]
  /** Rows already at hand (no query needed), read under `source`'s generations. */
  rows?: readonly Record<string, unknown>[]
  source?: CompletedRead
  /** Estimated bytes the rows kept may take at most (`learn.maxFanOutBytes`): the list's order decides which fit. */
  maxBytes: number
  /** Estimated bytes of one row of this batch's shape, when rows of it were seen before: only the rows that fit are fetched. */
  rowBytes?: number
  /** Told the mean estimated bytes of the rows a batch returned. */
  sized?(rowBytes: number): void
  /**
   * Told the rows kept (each the result of the single-row read of `value`, as stored), once they
   * are: chaining predicts from them what follows each row.
   */
  kept?(rows: readonly KeptRow[]): void
}

/** A row a fan-out kept: the result of the single-row read of `value`. */
export interface KeptRow {
  value: unknown
  row: Record<string, unknown>
}

/** What a speculative read got: a value it found or fetched, the error it failed with, or nothing (skipped). */
type Speculated = { value: unknown } | { error: unknown } | undefined

/** Thrown to readers that joined a batch which did not return their row: they query themselves. */
class RowMissing extends Error {}

export class Speculator {
  /** Speculative reads running now (idle() and close() wait for them). */
  private readonly running = new Set<Promise<void>>()
  private closed = false

  constructor(
    private readonly entries: QueryEntries,
    private readonly flights: Flights,
    private readonly stats: Stats,
    private readonly usage: SpeculationUsage,
    /** Told when the database shows strain: a failed speculative read. */
    private readonly pressure: Signal,
    private readonly reportError: ReportError,
    private readonly shadowReads: ShadowReads | undefined,
  ) {}

  /**
   * Shadow mode: counts the reads `strategy` predicts (each `args` a read of `model` and
   * `operation`) as issued and completed, as if they had run. Nothing is sent to the database.
   */
  shadow(model: string, operation: string, argsList: readonly unknown[], strategy: string): void {
    if (this.shadowReads === undefined || this.closed) return
    const keys: string[] = []
    for (const args of argsList) {
      try {
        keys.push(this.entries.keyOf(model, operation, args).key)
      } catch {
        // A read that cannot be keyed would not be cached either.
      }
    }
    this.shadowReads.record(keys, this.entries.ttlOf(model), strategy)
  }

  /**
   * Runs a read speculatively (`execute` sends it beneath this extension) and stores its result;
   * `canonical` is `canonicalArgs(args)` when the caller has it already.
   */
  warm(model: string, operation: string, args: unknown, execute: () => Promise<unknown>, strategy: string, canonical?: string): Promise<void> {
    return this.track(this.speculate(model, operation, args, execute, strategy, false, canonical).then(() => {}))
  }

  /**
   * Whether a speculative read of `args` would be skipped now because its result is cached
   * (`cached`) or in flight (`inFlight`), when that can be told from process memory alone, with
   * no I/O and nothing counted: the entry in L1, valid under generations known here; a flight
   * under the current generations. Undefined when it cannot be told so cheaply (the read is then
   * looked up as usual when it runs). `canonical` is `canonicalArgs(args)`.
   */
  known(model: string, operation: string, args: unknown, canonical?: string): 'cached' | 'inFlight' | undefined {
    if (this.closed || !this.entries.cacheable(model, operation)) return undefined
    let key: string
    try {
      key = this.entries.candidateKey(model, operation, args, canonical)
    } catch {
      // Uncacheable, or the scope failed: the lookup when it runs says so, once.
      return undefined
    }
    if (this.entries.peekEntry(key) !== undefined) return 'cached'
    if (!this.flights.has(key)) return undefined
    const gens = this.entries.peekGenerations(model, operation, args)
    return gens !== undefined && this.flights.running(key, gens) !== undefined ? 'inFlight' : undefined
  }

  /**
   * The result of a read cached in process memory and valid under generations known here (as
   * `known()` tells `cached`), not copied: to be read, never changed or handed out. Undefined
   * when it is not, or cannot be told without I/O.
   */
  cachedValue(model: string, operation: string, args: unknown, canonical?: string): unknown {
    if (this.closed || !this.entries.cacheable(model, operation)) return undefined
    try {
      return this.entries.peekEntry(this.entries.keyOf(model, operation, args, canonical).key)?.value
    } catch {
      return undefined
    }
  }

  /** The rows of a fan-out cached in process memory (as `cachedValue()` finds them), to be read only. */
  cachedRows(model: string, operation: string, argsFor: (value: unknown) => unknown, values: readonly unknown[]): KeptRow[] {
    const rows: KeptRow[] = []
    for (const value of values) {
      const row = this.cachedValue(model, operation, argsFor(value))
      if (isPlainObject(row)) rows.push({ value, row })
    }
    return rows
  }

  /**
   * Whether every row of a fan-out is cached or in flight (as `known()` tells it), so that the
   * batch would be skipped (`cached`) when it runs; false when any is not, or cannot be told.
   */
  knownRows(model: string, operation: string, argsFor: (value: unknown) => unknown, values: readonly unknown[]): boolean {
    for (const value of values) if (this.known(model, operation, argsFor(value)) === undefined) return false
    return values.length > 0
  }

  /**
   * `warm()` at this extension's hook, where `args` are as the hook sees them and `query` runs the
   * hooks beneath it. Resolves with the read's result for the extensions applied before this one
   * (cached, joined or fetched; fetched without storing when it cannot be cached), or rejects
   * with the speculative read's error: they never see a value the database did not give.
   */
  async warmAt(model: string, operation: string, args: unknown, query: () => PromiseLike<unknown>, strategy: string): Promise<unknown> {
    const speculated = this.speculate(model, operation, args, () => new Promise((resolve, reject) => query().then(resolve, reject)), strategy, true)
    void this.track(speculated.then(() => {}))
    const outcome = await speculated
    if (outcome === undefined) {
      this.stats.count('dbQueries', model)
      return query()
    }
    if ('error' in outcome) throw outcome.error
    return outcome.value
  }

  /**
   * Runs one batched read (`execute`) for the single-row reads `warming` describes and keeps each
   * row it returns as the result of its own single-row read; rows already at hand are kept
   * without a query. Readers of a row join the batch while it runs.
   */
  warmRows(warming: RowsWarming, execute: (values: unknown[]) => Promise<unknown>, strategy: string): Promise<void> {
    return this.track(this.speculateRows(warming, execute, strategy))
  }

  /** Resolves when no speculative read is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running])
  }

  /** Stops starting speculative reads. */
  close(): void {
    this.closed = true
  }

  /** Keeps `running` among the speculative work idle() and close() wait for. */
  private track(running: Promise<void>): Promise<void> {
    this.running.add(running)
    void running.finally(() => this.running.delete(running))
    return running
  }

  /**
   * Runs a speculative read; says what it got (a value when it found or fetched one; with
   * `wanted` false, one it found is not copied out, as nobody reads it), never throws.
   */
  private async speculate(
    model: string,
    operation: string,
    args: unknown,
    execute: () => Promise<unknown>,
    strategy: string,
    wanted: boolean,
    canonical?: string,
  ): Promise<Speculated> {
    if (this.closed) return void this.stats.skip('closed')
    if (!this.entries.cacheable(model, operation)) return void this.stats.skip('notCached')
    // Not awaited when answered from process memory: the flight starts in the same tick as the
    // call, so a read made right after it finds the speculative read in flight.
    const pending = this.entries.lookup(model, operation, args, canonical)
    const lookup = pending instanceof Promise ? await pending : pending
    if (lookup === undefined) return void this.stats.skip('uncacheable')
    const { key, gens, entry } = lookup
    if (entry !== undefined) {
      this.stats.skip('cached')
      return { value: wanted ? cloneResult(entry.value) : undefined }
    }
    if (gens === undefined) return void this.stats.skip('storeUnavailable')
    const flight = this.flights.running(key, gens)
    if (flight !== undefined) {
      this.stats.skip('inFlight')
      return flight.promise.then(
        (value) => ({ value: wanted ? cloneResult(value) : undefined }),
        () => undefined,
      )
    }

    this.stats.speculation('issued', strategy)
    this.stats.count('dbQueries', model)
    const speculation: Speculation = { strategy, used: false, live: 0 }
    // In flight before it is sent: what sending it predicts at once (chaining) may be this same
    // read, and must find it in flight rather than send it a second time.
    let forward!: (sent: Promise<unknown>) => void
    const own = this.flights.start(key, new Promise((resolve) => (forward = resolve)), gens, speculation)
    forward(send(execute))
    try {
      const result = await own.promise
      speculation.ms = performance.now() - own.startedAt
      this.stats.speculation('completed', strategy)
      if (!this.entries.store(lookup, model, operation, args, result, gens, speculation)) this.usage.wasteIfUnused(speculation)
      return { value: result }
    } catch (error) {
      this.failed(error, strategy, model, operation)
      return { error }
    } finally {
      this.flights.settle(key, own)
    }
  }

  private async speculateRows(warming: RowsWarming, execute: (values: unknown[]) => Promise<unknown>, strategy: string): Promise<void> {
    const { model, operation, field } = warming
    if (this.closed) return this.stats.skip('closed')
    if (!this.entries.cacheable(model, operation)) return this.stats.skip('notCached')
    // Only the rows not cached or in flight already are fetched. Each is stored under the
    // generations its own read depends on (its row's, with row generations), read before the
    // batch is sent.
    const wanted: { value: unknown; key: string; deps: string[]; gens: string[] }[] = []
    // Rows cached already are followed too (chaining), as the rows fetched are.
    const cached: KeptRow[] = []
    for (const value of warming.values) {
      const lookup = await this.entries.lookup(model, operation, warming.argsFor(value))
      if (lookup === undefined) return this.stats.skip('uncacheable')
      if (lookup.gens === undefined) return this.stats.skip('storeUnavailable')
      if (lookup.entry !== undefined) {
        if (warming.kept !== undefined && isPlainObject(lookup.entry.value)) cached.push({ value, row: lookup.entry.value })
      } else if (this.flights.running(lookup.key, lookup.gens) === undefined) {
        wanted.push({ value, key: lookup.key, deps: lookup.deps, gens: lookup.gens })
      }
    }
    if (cached.length > 0) warming.kept?.(cached)
    if (wanted.length === 0) return this.stats.skip('cached')
    if (warming.rowBytes !== undefined && warming.rows === undefined) {
      // Rows of this shape were seen: fetch no more of them than could be kept.
      const fit = Math.floor(warming.maxBytes / Math.max(1, warming.rowBytes))
      if (fit === 0) return this.stats.skip('tooLarge')
      if (wanted.length > fit) wanted.length = fit
    }

    const speculation: Speculation = { strategy, used: false, live: 0 }
    const source = warming.source
    if (warming.rows !== undefined && source?.gens !== undefined && source.deps !== undefined && wanted.every((w) => coveredBy(w.deps, source.deps!))) {
      // The rows came with a read made under `source.gens`, which depends on everything each row
      // read does (or on its model's list generation, which every write of a row moves on): they
      // are as fresh as it was, and stored under its generations; under their own (their row's)
      // when nothing it depends on has moved since, so that a write to another row, which ends
      // the list, leaves them valid.
      this.stats.speculation('issued', strategy)
      this.stats.speculation('completed', strategy)
      const asSource = wanted.map((w) => {
        const own = this.entries.ownGenerations(w.deps, source.deps!, source.gens!)
        return own === undefined ? { ...w, deps: source.deps!, gens: source.gens! } : { ...w, gens: own }
      })
      this.keepRows(warming, asSource, warming.rows, speculation)
      this.usage.wasteIfUnused(speculation)
      return
    }

    this.stats.speculation('issued', strategy)
    this.stats.count('dbQueries', model)
    const startedAt = performance.now()
    const batch = send(() => execute(wanted.map((w) => w.value)))
    const own = new Map<string, Flight>()
    for (const { value, key, gens } of wanted) {
      const promise = batch.then((rows) => {
        const row = Array.isArray(rows) ? rows.find((r) => sameValue(r?.[field], value)) : undefined
        if (row === undefined) throw new RowMissing()
        return warming.strip ? withoutField(row, field) : row
      })
      promise.catch(() => {})
      own.set(key, this.flights.start(key, promise, gens, speculation, startedAt))
    }
    try {
      const rows = await batch
      speculation.ms = performance.now() - startedAt
      this.stats.speculation('completed', strategy)
      if (Array.isArray(rows)) {
        this.keepRows(warming, wanted, rows, speculation)
        if (rows.length > 0) warming.sized?.(rows.reduce((sum: number, row) => sum + estimateSize(row), 0) / rows.length)
      }
      this.usage.wasteIfUnused(speculation)
    } catch (error) {
      this.failed(error, strategy, model, 'findMany')
    } finally {
      for (const [key, flight] of own) this.flights.settle(key, flight)
    }
  }

  private failed(error: unknown, strategy: string, model: string, operation: string): void {
    this.stats.speculation('failed', strategy)
    this.pressure.emit()
    this.reportError(error, { phase: 'prefetch', model, operation })
  }

  private keepRows(
    warming: RowsWarming,
    wanted: readonly { value: unknown; key: string; deps: string[]; gens: string[] }[],
    rows: readonly Record<string, unknown>[],
    speculation: Speculation,
  ): void {
    let bytes = 0
    const kept: KeptRow[] = []
    for (const { value, key, deps, gens } of wanted) {
      const found = rows.find((r) => sameValue(r?.[warming.field], value))
      if (found === undefined) continue
      const row = warming.strip ? withoutField(found, warming.field) : found
      // In the list's order while they fit: the first row that does not fit ends the fan-out.
      bytes += estimateSize(row)
      if (bytes > warming.maxBytes) break
      if (this.entries.keep(key, warming.model, row, deps, gens, speculation)) kept.push({ value, row })
    }
    if (kept.length > 0) warming.kept?.(kept)
  }
}

/** The promise of `execute()`, a rejected one when it throws. */
function send(execute: () => Promise<unknown>): Promise<unknown> {
  try {
    return Promise.resolve(execute())
  } catch (error) {
    return Promise.reject(error)
  }
}

function withoutField(row: Record<string, unknown>, field: string): Record<string, unknown> {
  const { [field]: _, ...rest } = row
  return rest
}

const UNBATCHED: Record<string, string> = { findUnique: 'findFirst', findUniqueOrThrow: 'findFirstOrThrow' }

/**
 * The operation a speculative read is sent as. Prisma sends the findUnique calls of one tick that
 * have one shape as one batched query, and an application's read in a batch fails differently (a
 * findUniqueOrThrow's P2025 loses its sentence); findFirst with the same where returns the same
 * row, is never batched, and costs the same statement. Not when a where names a compound key
 * (findFirst has no such field; nor when the schema is not known) or when hooks beneath may tell
 * operations apart (`sameRead` false).
 */
export function sentAs(selectors: readonly { name: string; fields: readonly string[] }[] | undefined, operation: string, args: unknown, sameRead: boolean): string {
  const first = UNBATCHED[operation]
  if (first === undefined || !sameRead || selectors === undefined || !isPlainObject(args) || !isPlainObject(args.where)) return operation
  for (const selector of selectors) if (selector.fields.length > 1 && selector.name in args.where) return operation
  return first
}
