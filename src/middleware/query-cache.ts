import { Decimal } from '@prisma/client/runtime/client'
import { LRUCache } from 'lru-cache'
import { cloneResult } from '../cache/clone.ts'
import { createCodec, type DecimalSupport } from '../cache/codec.ts'
import { BoundedGenerations, LocalGenerations, SharedGenerations, type GenerationStore } from '../cache/generations.ts'
import { StoreTimeoutError } from '../cache/guard.ts'
import { queryKey } from '../cache/key.ts'
import { UncacheableError } from '../canonical.ts'
import { estimateSize, ResultStore, type Entry, type Speculation } from '../cache/store.ts'
import { DEFAULTS, type ResolvedOptions } from '../options.ts'
import type { Stats } from '../stats.ts'
import type { ErrorContext } from '../types.ts'
import { classify, readDependencies, writeTargets, type OperationKind } from './classify.ts'
import type { SchemaInfo } from './schema.ts'
import type { Sessions } from './session.ts'
import { Latencies } from './latency.ts'
import { sameValue } from '../strategies/values.ts'
import { RowLocator } from './row-locator.ts'
import { isFluentRead } from './fluent.ts'
import { transactionOf, UnsettledWrites } from './transaction.ts'

/** What Prisma hands a `$allOperations` query extension. */
export interface OperationParams {
  model?: string
  operation: string
  args: unknown
  query: (args: unknown) => Promise<unknown>
  __internalParams?: unknown
}

/** A query in flight, shared by identical reads issued under the same generations. */
interface Flight {
  promise: Promise<unknown>
  gens: string[]
  /** performance.now() when it was sent. */
  startedAt: number
  /** Set when the query is speculative. */
  speculation?: Speculation
}

/** A read that completed (from the cache or the database), as the predictors see it. */
export interface CompletedRead {
  model: string
  operation: string
  args: unknown
  result: unknown
  /** The models the read depends on and their generations before it ran (when known). */
  deps: string[] | undefined
  gens: string[] | undefined
  /** Milliseconds the read took at the database, when it went there. */
  dbMs?: number
}

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
}

/** What a speculative read got: a value it found or fetched, the error it failed with, or nothing (skipped). */
type Speculated = { value: unknown } | { error: unknown } | undefined

/** Thrown to readers that joined a batch which did not return their row: they query themselves. */
class RowMissing extends Error {}

/** Where a read stands in the cache: its key, what it depends on and, if valid, its entry. */
interface Lookup {
  key: string
  scope: string
  deps: string[]
  /** The current generations of `deps`, read before any query is sent; undefined if unknown. */
  gens: string[] | undefined
  entry: Entry | undefined
}

/**
 * The read and write paths: serves reads from the cache while every model they read is at the
 * generation it had when the result was fetched, and moves generations forward after writes.
 * Any failure of the cache itself falls back to the database; a user's query sees only what
 * the database says.
 */
export class QueryCache {
  readonly results: ResultStore
  readonly generations: GenerationStore
  private readonly flights = new Map<string, Flight>()
  /** Speculative reads running now (idle() and close() wait for them). */
  private readonly speculating = new Set<Promise<void>>()
  private readonly unsettled: UnsettledWrites
  /** Which cached list holds the row of each unique key (in process memory, with L1 only). */
  private readonly rows: RowLocator | undefined
  private closed = false
  /**
   * Whether a row of one read's result may answer a read of another operation (rows from lists,
   * fan-out). Not when query hooks run beneath this extension: they may treat operations apart.
   */
  rowsShared: () => boolean = () => true
  /** Told of every read completed outside transactions (hits included); must not throw. */
  onRead: (read: CompletedRead) => void = () => {}
  /** Told of every read about to go to the database (before its result is known); must not throw. */
  onStart: (read: { model: string; operation: string; args: unknown }) => void = () => {}
  /** Told when the database shows strain: a failed demand or speculative read. */
  onPressure: () => void = () => {}
  /**
   * Told when an application query sent to the database settles; must not throw. Only when set
   * (the connection check needs it) are those queries counted in `demandInFlight`.
   */
  onDemandSettled: (() => void) | undefined
  /** Application queries (reads that missed, and writes) sent to the database and not yet answered. */
  demandInFlight = 0
  /** Database latency of demand reads, by model and operation. */
  readonly latency = new Latencies()
  /** The codec of everything written to the shared store. */
  readonly codec = createCodec(decimalSupport)
  /** In shadow mode: the reads predicted and not yet made, as if their results were cached. */
  private readonly shadowed: LRUCache<string, { speculation: Speculation; storedAt: number; ttl: number }> | undefined

  constructor(
    private readonly options: ResolvedOptions,
    private readonly schema: SchemaInfo,
    private readonly stats: Stats,
    private readonly sessions: Sessions,
    transactionTimeoutMs: number,
    /** `resultFingerprint()` of the client (see fingerprint.ts). */
    fingerprint: string,
  ) {
    const report = (phase: ErrorContext['phase']) => (error: unknown) => this.reportError(error, { phase })
    this.results = new ResultStore({
      l1: options.l1,
      store: options.cache,
      codec: this.codec,
      timeoutMs: options.storeTimeout,
      now: options.now,
      monotonic: options.monotonic,
      reportError: (error, phase) => this.reportError(error, { phase }),
      // The fingerprint of the client's schema and result-shaping configuration: clients that
      // would answer the same arguments differently never read each other's entries.
      prefix: `${options.namespace}:entry:${fingerprint}:`,
      onDispose: (entry) => {
        const speculation = entry.speculation
        if (speculation === undefined) return
        speculation.live--
        this.wasteIfUnused(speculation)
      },
    })
    // Generations carry no fingerprint, unlike entries: they say when a model's rows changed,
    // which is the same fact for every client of the database whatever its schema version or
    // configuration. A write made by a process of the old schema during a rolling deployment
    // must still invalidate what a process of the new one cached (and the other way round).
    const shared = options.cache && new SharedGenerations(options.cache, options.storeTimeout, report('generation'), `${options.namespace}:gen:`)
    this.generations = !shared
      ? new LocalGenerations()
      : options.maxStalenessMs === undefined
        ? shared
        : new BoundedGenerations(shared, options.maxStalenessMs, options.monotonic)
    this.unsettled = new UnsettledWrites(transactionTimeoutMs, (models) => void this.bump(models))
    // Keyv reports many of its adapters' failures only as events: count them too.
    options.cache?.on?.('error', this.storeErrorEvent)
    if (options.l1) this.rows = new RowLocator(options.l1.maxEntries, schema.uniqueFields)
    if (options.shadow) this.shadowed = new LRUCache({ max: options.l1 ? options.l1.maxEntries : DEFAULTS.l1.maxEntries })
  }

  /**
   * Shadow mode: counts the reads `strategy` predicts (each `args` a read of `model` and
   * `operation`) as issued and completed, as if they had run, and remembers them for `ttl` so a
   * later read of one counts as a prefetch hit. Nothing is sent to the database.
   */
  shadow(model: string, operation: string, argsList: readonly unknown[], strategy: string): void {
    if (this.shadowed === undefined || this.closed) return
    const session = this.sessions.current()
    const scope = this.options.scope({ model, operation, sessionId: session?.sessionId, userId: session?.userId })
    const speculation: Speculation = { strategy, used: false, live: 0 }
    const storedAt = this.options.monotonic()
    const ttl = this.options.models.get(model)?.ttl ?? this.options.ttl
    let fresh = false
    for (const args of argsList) {
      let key: string
      try {
        key = queryKey(model, operation, scope, args)
      } catch {
        continue
      }
      if (this.shadowed.get(key)?.speculation.used === false) continue
      this.shadowed.set(key, { speculation, storedAt, ttl })
      fresh = true
    }
    if (!fresh) return this.stats.skip('cached')
    this.stats.speculation('issued', strategy)
    this.stats.speculation('completed', strategy)
  }

  handle(params: OperationParams): Promise<unknown> {
    const { model, operation, args, query } = params
    const kind = classify(model, operation)
    const transaction = transactionOf(params.__internalParams)
    if (transaction?.kind === 'itx') this.unsettled.touch(transaction.id)
    if (transaction?.kind === 'batch') return this.inBatch(model, operation, kind, args, query)
    if (kind === 'read') {
      if (transaction !== undefined || this.closed || isFluentRead(params.__internalParams)) {
        // Inside a transaction the cache is neither read nor written; nor for a fluent read,
        // whose result has another shape than the plain read with the same arguments.
        this.stats.count('dbQueries', model)
        return query(args)
      }
      return this.read(model!, operation, args, query)
    }
    return this.write(model, operation, kind, args, query, transaction?.kind === 'itx' ? transaction.id : undefined)
  }

  private async read(model: string, operation: string, args: unknown, query: OperationParams['query']): Promise<unknown> {
    this.stats.count('reads', model)
    if (!this.cacheable(model, operation)) return this.miss(model, query, args)
    let lookup: Lookup
    let value: unknown
    try {
      lookup = await this.lookup(model, operation, args)
      if (lookup.entry !== undefined) value = cloneResult(lookup.entry.value)
    } catch (error) {
      if (!(error instanceof UncacheableError)) this.reportError(error, { phase: 'key', model, operation })
      return this.miss(model, query, args)
    }
    const { key, deps, gens, entry } = lookup
    const shadowed = this.shadowed?.get(key)
    if (shadowed !== undefined) {
      this.shadowed!.delete(key)
      const age = this.options.monotonic() - shadowed.storedAt
      if (age >= 0 && age < shadowed.ttl) {
        // Shadow mode saves nothing: the read still goes to the database.
        this.stats.onTime(model, shadowed.speculation.strategy, 0)
        this.markUsed(shadowed.speculation)
      }
    }
    if (entry !== undefined) {
      this.stats.count('hits', model)
      if (entry.source === 'prefetch' && !entry.served) {
        entry.served = true
        this.onTimeHit(model, operation, entry)
      }
      this.markUsed(entry.speculation)
      this.onRead({ model, operation, args, result: value, deps: entry.deps, gens: entry.gens })
      return value
    }
    if (gens === undefined) return this.miss(model, query, args)

    if (operation === 'findUnique' || operation === 'findUniqueOrThrow') {
      const found = await this.rowFromList(lookup.scope, model, args)
      if (found !== undefined) {
        this.stats.count('hits', model)
        const list = found.list
        if (list.source === 'prefetch' && !list.servedRows?.has(found.position)) {
          ;(list.servedRows ??= new Set()).add(found.position)
          this.onTimeHit(model, operation, list)
        }
        this.markUsed(list.speculation)
        this.onRead({ model, operation, args, result: found.row, deps: found.list.deps, gens: found.list.gens })
        return found.row
      }
    }

    const flight = this.flights.get(key)
    if (flight !== undefined && sameTokens(flight.gens, gens)) {
      let shared: unknown
      const joinedAt = performance.now()
      try {
        shared = cloneResult(await flight.promise)
      } catch {
        // The shared query failed; this read runs its own so its outcome is its own.
        return this.miss(model, query, args)
      }
      this.stats.count('hits', model)
      if (flight.speculation !== undefined) {
        // What the read saved is the part of the query that had run before it joined; it
        // waited for the rest.
        this.stats.late(model, flight.speculation.strategy, joinedAt - flight.startedAt, performance.now() - joinedAt)
      }
      this.markUsed(flight.speculation)
      this.onRead({ model, operation, args, result: shared, deps, gens })
      return shared
    }

    this.stats.count('misses', model)
    this.stats.count('dbQueries', model)
    const startedAt = performance.now()
    const promise = this.send(query, args)
    const own: Flight = { promise, gens, startedAt }
    // After the query is on its way: reads predicted from its arguments alone go alongside it.
    this.onStart({ model, operation, args })
    this.flights.set(key, own)
    try {
      let result: unknown
      try {
        result = await promise
      } catch (error) {
        this.onPressure()
        throw error
      }
      const dbMs = performance.now() - startedAt
      this.latency.record(model, operation, dbMs)
      if (this.options.readThrough && this.store(key, model, result, deps, gens, undefined) && operation === 'findMany') {
        if (this.rowsShared()) this.rows?.addList(lookup.scope, model, args, key, result)
      }
      this.onRead({ model, operation, args, result, deps, gens, dbMs })
      return result
    } finally {
      if (this.flights.get(key) === own) this.flights.delete(key)
    }
  }

  /**
   * Runs a read speculatively (`execute` sends it beneath this extension) and stores its result
   * for the demand read that may follow. Never throws: a failure is counted and reported.
   * Skipped when the result is already cached or in flight.
   */
  warm(model: string, operation: string, args: unknown, execute: () => Promise<unknown>, strategy: string): Promise<void> {
    return this.track(this.speculate(model, operation, args, execute, strategy).then(() => {}))
  }

  /**
   * `warm()` at this extension's hook, where `args` are as the hook sees them and `query` runs the
   * hooks beneath it. Resolves with the read's result for the extensions applied before this one
   * (cached, joined or fetched; fetched without storing when it cannot be cached), or rejects
   * with the speculative read's error: they never see a value the database did not give.
   */
  async warmAt(model: string, operation: string, args: unknown, query: () => PromiseLike<unknown>, strategy: string): Promise<unknown> {
    const speculated = this.speculate(model, operation, args, () => new Promise((resolve, reject) => query().then(resolve, reject)), strategy)
    void this.track(speculated.then(() => {}))
    const outcome = await speculated
    if (outcome === undefined) {
      this.stats.count('dbQueries', model)
      return query()
    }
    if ('error' in outcome) throw outcome.error
    return outcome.value
  }

  /** Keeps `running` among the speculative work idle() and close() wait for. */
  private track(running: Promise<void>): Promise<void> {
    this.speculating.add(running)
    void running.finally(() => this.speculating.delete(running))
    return running
  }

  /** Runs a speculative read; says what it got (a value when it found or fetched one), never throws. */
  private async speculate(model: string, operation: string, args: unknown, execute: () => Promise<unknown>, strategy: string): Promise<Speculated> {
    if (this.closed) return void this.stats.skip('closed')
    if (!this.cacheable(model, operation)) return void this.stats.skip('notCached')
    let lookup: Lookup
    try {
      lookup = await this.lookup(model, operation, args)
    } catch (error) {
      if (!(error instanceof UncacheableError)) this.reportError(error, { phase: 'key', model, operation })
      return void this.stats.skip('uncacheable')
    }
    const { key, deps, gens, entry } = lookup
    if (entry !== undefined) {
      this.stats.skip('cached')
      return { value: cloneResult(entry.value) }
    }
    if (gens === undefined) return void this.stats.skip('storeUnavailable')
    const flight = this.flights.get(key)
    if (flight !== undefined && sameTokens(flight.gens, gens)) {
      this.stats.skip('inFlight')
      return flight.promise.then(
        (value) => ({ value: cloneResult(value) }),
        () => undefined,
      )
    }

    this.stats.speculation('issued', strategy)
    this.stats.count('dbQueries', model)
    const speculation: Speculation = { strategy, used: false, live: 0 }
    let promise: Promise<unknown>
    try {
      promise = Promise.resolve(execute())
    } catch (error) {
      promise = Promise.reject(error)
    }
    const own: Flight = { promise, gens, speculation, startedAt: performance.now() }
    this.flights.set(key, own)
    try {
      const result = await promise
      speculation.ms = performance.now() - own.startedAt
      this.stats.speculation('completed', strategy)
      if (!this.store(key, model, result, deps, gens, speculation)) this.wasteIfUnused(speculation)
      else if (operation === 'findMany' && this.rowsShared()) this.rows?.addList(lookup.scope, model, args, key, result)
      return { value: result }
    } catch (error) {
      this.stats.speculation('failed', strategy)
      this.onPressure()
      this.reportError(error, { phase: 'prefetch', model, operation })
      return { error }
    } finally {
      if (this.flights.get(key) === own) this.flights.delete(key)
    }
  }

  /**
   * Runs one batched read (`execute`) for the single-row reads `warming` describes and keeps each
   * row it returns as the result of its own single-row read; rows already at hand are kept
   * without a query. Readers of a row join the batch while it runs. Never throws.
   */
  warmRows(warming: RowsWarming, execute: (values: unknown[]) => Promise<unknown>, strategy: string): Promise<void> {
    return this.track(this.speculateRows(warming, execute, strategy))
  }

  private async speculateRows(warming: RowsWarming, execute: (values: unknown[]) => Promise<unknown>, strategy: string): Promise<void> {
    const { model, operation, field } = warming
    if (this.closed) return this.stats.skip('closed')
    if (!this.cacheable(model, operation)) return this.stats.skip('notCached')
    // Only the rows not cached or in flight already are fetched, all under one set of generations.
    const wanted: { value: unknown; key: string }[] = []
    let deps: string[] | undefined
    let gens: string[] | undefined
    for (const value of warming.values) {
      let lookup: Lookup
      try {
        lookup = await this.lookup(model, operation, warming.argsFor(value))
      } catch (error) {
        if (!(error instanceof UncacheableError)) this.reportError(error, { phase: 'key', model, operation })
        return this.stats.skip('uncacheable')
      }
      if (lookup.gens === undefined) return this.stats.skip('storeUnavailable')
      if (gens !== undefined && !sameTokens(gens, lookup.gens)) return this.stats.skip('generationMoved')
      deps = lookup.deps
      gens = lookup.gens
      const flight = this.flights.get(lookup.key)
      if (lookup.entry === undefined && !(flight !== undefined && sameTokens(flight.gens, lookup.gens))) wanted.push({ value, key: lookup.key })
    }
    if (wanted.length === 0 || deps === undefined || gens === undefined) return this.stats.skip('cached')

    const speculation: Speculation = { strategy, used: false, live: 0 }
    const source = warming.source
    if (warming.rows !== undefined && source?.gens !== undefined && sameTokens(source.deps ?? [], deps)) {
      // The rows came with a read made under `source.gens`; they are as fresh as it was.
      this.stats.speculation('issued', strategy)
      this.stats.speculation('completed', strategy)
      this.keepRows(warming, wanted, warming.rows, deps, source.gens, speculation)
      this.wasteIfUnused(speculation)
      return
    }

    this.stats.speculation('issued', strategy)
    this.stats.count('dbQueries', model)
    let batch: Promise<unknown>
    const startedAt = performance.now()
    try {
      batch = Promise.resolve(execute(wanted.map((w) => w.value)))
    } catch (error) {
      batch = Promise.reject(error)
    }
    const own = new Map<string, Flight>()
    for (const { value, key } of wanted) {
      const promise = batch.then((rows) => {
        const row = Array.isArray(rows) ? rows.find((r) => sameValue(r?.[field], value)) : undefined
        if (row === undefined) throw new RowMissing()
        return warming.strip ? withoutField(row, field) : row
      })
      promise.catch(() => {})
      const flight: Flight = { promise, gens, speculation, startedAt }
      this.flights.set(key, flight)
      own.set(key, flight)
    }
    try {
      const rows = await batch
      speculation.ms = performance.now() - startedAt
      this.stats.speculation('completed', strategy)
      if (Array.isArray(rows)) this.keepRows(warming, wanted, rows, deps, gens, speculation)
      this.wasteIfUnused(speculation)
    } catch (error) {
      this.stats.speculation('failed', strategy)
      this.onPressure()
      this.reportError(error, { phase: 'prefetch', model, operation: 'findMany' })
    } finally {
      for (const [key, flight] of own) if (this.flights.get(key) === flight) this.flights.delete(key)
    }
  }

  private keepRows(
    warming: RowsWarming,
    wanted: readonly { value: unknown; key: string }[],
    rows: readonly Record<string, unknown>[],
    deps: string[],
    gens: string[],
    speculation: Speculation,
  ): void {
    for (const { value, key } of wanted) {
      const row = rows.find((r) => sameValue(r?.[warming.field], value))
      if (row !== undefined) this.store(key, warming.model, warming.strip ? withoutField(row, warming.field) : row, deps, gens, speculation)
    }
  }

  private cacheable(model: string, operation: string): boolean {
    const settings = this.options.models.get(model)
    return settings === undefined || (settings.cache && settings.operations.has(operation))
  }

  /** Finds the entry of a read, valid under the current generations, or says why there is none. */
  private async lookup(model: string, operation: string, args: unknown): Promise<Lookup> {
    const session = this.sessions.current()
    const scope = this.options.scope({ model, operation, sessionId: session?.sessionId, userId: session?.userId })
    const key = queryKey(model, operation, scope, args)
    const found = await this.results.get(key)
    const deps = found?.deps ?? readDependencies(this.schema, model, args)
    // Read the generations before any query is sent: a write that lands while it runs moves
    // them on, and the result stored under these tokens is then never served.
    const gens = await this.generations.current(deps)
    if (found !== undefined && gens !== undefined && sameTokens(found.gens, gens)) return { key, scope, deps, gens, entry: found }
    if (found !== undefined) this.results.forget(key)
    return { key, scope, deps, gens, entry: undefined }
  }

  /** A speculative result none of whose entries could be kept, and that no reader joined, is wasted. */
  private wasteIfUnused(speculation: Speculation): void {
    if (speculation.live > 0 || speculation.used || speculation.wasted) return
    speculation.wasted = true
    this.stats.waste(speculation.strategy, 1)
  }

  /**
   * The first read a speculative entry serves: it saves what a warm read of its kind typically
   * waits, never more than the speculative query itself took (see `PrefetchStats.savedMs`).
   */
  private onTimeHit(model: string, operation: string, entry: Entry): void {
    const typical = this.latency.typical(model, operation) ?? 0
    const ran = entry.speculation?.ms
    this.stats.onTime(model, entry.speculation?.strategy ?? entry.strategy ?? 'unknown', ran === undefined ? typical : Math.min(typical, ran))
  }

  /** The first read a speculative result serves makes it "used" (precision = used / completed). */
  private markUsed(speculation: Speculation | undefined): void {
    if (speculation === undefined || speculation.used) return
    speculation.used = true
    // A reader that joined the query in flight may use it after its entry was already gone.
    if (speculation.wasted) this.stats.waste(speculation.strategy, -1)
    this.stats.speculation('used', speculation.strategy)
  }

  private miss(model: string, query: OperationParams['query'], args: unknown): Promise<unknown> {
    this.stats.count('misses', model)
    this.stats.count('dbQueries', model)
    return this.send(query, args)
  }

  /**
   * Sends an application query to the database, counted in `demandInFlight` while it runs when
   * something listens (otherwise as it is: no extra promise on every miss and write).
   */
  private send(query: OperationParams['query'], args: unknown): Promise<unknown> {
    const settled = this.onDemandSettled
    return settled === undefined ? query(args) : this.counted(query, args, settled)
  }

  private async counted(query: OperationParams['query'], args: unknown, settled: () => void): Promise<unknown> {
    this.demandInFlight++
    try {
      return await query(args)
    } finally {
      this.demandInFlight--
      settled()
    }
  }

  /**
   * The row a single-row read by a unique field asks for, from a cached list that holds it in the
   * same shape, if that list is still valid: every model it read is at the generation it was read
   * under (a list reads at least what the row read does, so this is never less strict).
   */
  private async rowFromList(scope: string, model: string, args: unknown): Promise<{ row: unknown; list: Entry; position: number } | undefined> {
    if (!this.rowsShared()) return undefined
    const place = this.rows?.find(scope, model, args)
    if (place === undefined) return undefined
    const list = await this.results.get(place.listKey)
    if (list === undefined || !Array.isArray(list.value)) return undefined
    const row = list.value[place.position] as Record<string, unknown> | undefined
    if (row === null || typeof row !== 'object' || !sameValue(row[place.field], place.value)) return undefined
    const current = await this.generations.current(list.deps)
    if (current === undefined || !sameTokens(current, list.gens)) return undefined
    return { row: cloneResult(row), list, position: place.position }
  }

  /** Stores a result fetched under `gens`, unless it can already be seen to be outdated; says whether it did. */
  private store(key: string, model: string, result: unknown, deps: string[], gens: string[], speculation: Speculation | undefined): boolean {
    if (this.closed || this.unsettled.anyUnsettled(deps)) return false
    try {
      // A write that landed during the query makes the entry unservable anyway; with generations
      // in process memory that is free to see, so such an entry is not even stored.
      if (this.generations instanceof LocalGenerations && !sameTokens(this.generations.current(deps), gens)) return false
      const value = cloneResult(result)
      const ttl = this.options.models.get(model)?.ttl ?? this.options.ttl
      this.results.set(key, {
        value,
        deps,
        gens,
        ttl,
        source: speculation === undefined ? 'demand' : 'prefetch',
        strategy: speculation?.strategy,
        speculation,
        size: estimateSize(value),
      })
      if (speculation !== undefined) speculation.live++
      return true
    } catch (error) {
      this.reportError(error, { phase: 'set', model })
      return false
    }
  }

  /**
   * One query of a batch `$transaction([...])`. Nothing is served from or stored to the cache.
   * Every query of the batch, read or write, takes the same path to the database and back: Prisma
   * rejects them all when the batch fails and `$transaction` reports the first rejection it sees,
   * so a write that took longer on the way back than the reads beside it (its generation bump)
   * would change which query the caller's error names. A failed batch rolled back whole, so a
   * rejected write has nothing to bump; a committed one bumps before it resolves.
   */
  private async inBatch(model: string | undefined, operation: string, kind: OperationKind, args: unknown, query: OperationParams['query']): Promise<unknown> {
    if (kind !== 'read') this.stats.count('writes', model)
    this.stats.count('dbQueries', model)
    const targets = kind === 'read' ? undefined : this.targetsOf(model, operation, kind, args)
    const result = await query(args)
    if (targets !== undefined) await this.bump(targets)
    return result
  }

  private targetsOf(model: string | undefined, operation: string, kind: OperationKind, args: unknown): Set<string> {
    try {
      return kind === 'write' ? writeTargets(this.schema, model!, operation, args) : new Set(this.schema.models)
    } catch (error) {
      this.reportError(error, { phase: 'generation', model, operation })
      return new Set(this.schema.models)
    }
  }

  private async write(
    model: string | undefined,
    operation: string,
    kind: OperationKind,
    args: unknown,
    query: OperationParams['query'],
    interactiveTransaction: string | undefined,
  ): Promise<unknown> {
    this.stats.count('writes', model)
    this.stats.count('dbQueries', model)
    const targets = this.targetsOf(model, operation, kind, args)
    try {
      return await this.send(query, args)
    } finally {
      // Bump even when the write failed: a statement that errored may still have changed rows.
      if (interactiveTransaction !== undefined) this.unsettled.record(interactiveTransaction, targets)
      await this.bump(targets)
    }
  }

  /** Moves the generations of `models` on; every entry that read one of them stops being served. */
  async bump(models: Iterable<string>): Promise<void> {
    const list = [...models]
    if (list.length === 0) return
    for (const model of list) this.stats.count('invalidations', model)
    await this.generations.bump(list)
  }

  /** `$prefetch.invalidate()`: one model, or every model and the whole process cache. */
  async invalidate(model?: string): Promise<void> {
    if (model === undefined) {
      this.results.clearLocal()
      await this.bump(this.schema.models)
      return
    }
    if (!this.schema.models.includes(model)) {
      throw new TypeError(`prisma-prefetch: invalidate() needs a model of this client (${this.schema.models.join(', ')}): ${JSON.stringify(model)}`)
    }
    await this.bump([model])
  }

  /** Resolves when no speculative read is running and no store write is pending. */
  async idle(): Promise<void> {
    while (this.speculating.size > 0) await Promise.all([...this.speculating])
    await this.results.settled()
  }

  /** Stops caching (queries go straight to the database), settles every timer and pending write. */
  async close(): Promise<void> {
    this.closed = true
    this.unsettled.settleAll()
    await this.idle()
    await this.generations.close?.()
    this.options.cache?.off?.('error', this.storeErrorEvent)
  }

  private readonly storeErrorEvent = (error: unknown) => this.reportError(error, { phase: 'store' })

  reportError(error: unknown, context: ErrorContext): void {
    // A failed speculative query is counted as such (prefetch.failed), not as a cache error.
    if (context.phase === 'decode') this.stats.error('decode')
    else if (context.phase === 'predict') this.stats.error('predict')
    else if (error instanceof StoreTimeoutError) this.stats.error('timeouts')
    else if (context.phase !== 'prefetch' && context.phase !== 'session') this.stats.error('store')
    try {
      this.options.onError(error, context)
    } catch {
      // onError is the user's; its failure must not turn into a failed query either.
    }
  }
}

/**
 * Prisma's Decimal, from the runtime every generated client imports, so a decoded Decimal is of
 * the very class the client returns. Recognised by its tag rather than `instanceof`, which a
 * second copy of the runtime (ESM beside CJS) would defeat.
 */
const decimalSupport: DecimalSupport = {
  isDecimal: (value) => Object.prototype.toString.call(value) === '[object Decimal]',
  fromString: (text) => new Decimal(text),
}

function withoutField(row: Record<string, unknown>, field: string): Record<string, unknown> {
  const { [field]: _, ...rest } = row
  return rest
}

function sameTokens(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
