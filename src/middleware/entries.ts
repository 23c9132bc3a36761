/**
 * The cached entries as the read, write and speculative paths see them: where a read stands
 * (its key, the models it depends on, their current generations and, if still valid, its entry),
 * storing a result under the generations it was read with, and rows answered from cached lists.
 * Owns the result store, the generations and the row locator; written once for every path.
 */

import { Decimal } from '@prisma/client/runtime/client'
import { cloneResult, clonedSize, cloneSized } from '../cache/clone.ts'
import { createCodec, type Codec, type DecimalSupport } from '../cache/codec.ts'
import { BoundedGenerations, GENERATION_TTL_MS, LocalGenerations, modelOfKey, SharedGenerations, type GenerationStore } from '../cache/generations.ts'
import { QueryKeys, queryKey } from '../cache/key.ts'
import { ResultStore, type Entry, type Speculation } from '../cache/store.ts'
import { UncacheableError } from '../canonical.ts'
import type { ResolvedOptions } from '../options.ts'
import { sameValue } from '../strategies/values.ts'
import type { ReportError } from './errors.ts'
import { readKeys } from './row-generations.ts'
import { RowLocator, type RowPlace } from './row-locator.ts'
import type { SchemaInfo } from './schema.ts'
import type { Sessions } from './session.ts'
import type { UnsettledWrites } from './transaction.ts'

/** Where a read stands in the cache: its key, what it depends on and, if valid, its entry. */
export interface Lookup {
  key: string
  scope: string
  deps: string[]
  /** The current generations of `deps`, read before any query is sent; undefined if unknown. */
  gens: string[] | undefined
  entry: Entry | undefined
}

export class QueryEntries {
  readonly results: ResultStore
  readonly generations: GenerationStore
  /** The codec of everything written to the shared store. */
  readonly codec: Codec = createCodec(decimalSupport)
  /** The keys of recent predicted reads (see candidateKey). */
  private readonly candidateKeys = new QueryKeys()
  /** Which cached list holds the row of each unique key (in process memory, with L1 only). */
  private readonly rows: RowLocator | undefined
  /** Set by close(): nothing more is stored. */
  closed = false

  constructor(
    private readonly options: ResolvedOptions,
    private readonly schema: SchemaInfo,
    private readonly sessions: Sessions,
    private readonly unsettled: UnsettledWrites,
    private readonly reportError: ReportError,
    /** `resultFingerprint()` of the client (see fingerprint.ts). */
    fingerprint: string,
    /** Told when a speculative entry leaves the process cache. */
    onDispose: (speculation: Speculation) => void,
    /**
     * Whether a row of one read's result may answer a read of another operation (rows from
     * lists, fan-out). Not when query hooks run beneath this extension that may treat
     * operations apart (see HooksBeneath.operationBlind).
     */
    readonly rowsShared: () => boolean,
  ) {
    this.results = new ResultStore({
      l1: options.l1,
      store: options.cache,
      codec: this.codec,
      timeoutMs: options.storeTimeout,
      now: options.now,
      monotonic: options.monotonic,
      reportError: (error, phase) => reportError(error, { phase }),
      // The fingerprint of the client's schema and result-shaping configuration: clients that
      // would answer the same arguments differently never read each other's entries.
      prefix: `${options.namespace}:entry:${fingerprint}:`,
      onDispose: (entry) => {
        if (entry.speculation !== undefined) onDispose(entry.speculation)
      },
    })
    // Generations carry no fingerprint, unlike entries: they say when a model's rows changed,
    // which is the same fact for every client of the database whatever its schema version or
    // configuration. A write made by a process of the old schema during a rolling deployment
    // must still invalidate what a process of the new one cached (and the other way round).
    const shared =
      options.cache &&
      new SharedGenerations(
        options.cache,
        options.storeTimeout,
        (error) => reportError(error, { phase: 'generation' }),
        `${options.namespace}:gen:`,
        rowTokenTtl(options),
        options.maxRowGenerations,
      )
    this.generations = !shared
      ? new LocalGenerations(options.maxRowGenerations)
      : options.maxStalenessMs === undefined
        ? shared
        : new BoundedGenerations(shared, options.maxStalenessMs, options.monotonic, options.maxRowGenerations)
    if (options.l1) this.rows = new RowLocator(options.l1.maxEntries, schema.uniqueFields)
  }

  cacheable(model: string, operation: string): boolean {
    const settings = this.options.models.get(model)
    return settings === undefined || (settings.cache && settings.operations.has(operation))
  }

  /**
   * The cache key of a read in the current session's scope (throws UncacheableError);
   * `canonical` is `canonicalArgs(args)` when the caller has it already.
   */
  keyOf(model: string, operation: string, args: unknown, canonical?: string): { key: string; scope: string } {
    const scope = this.scopeOf(model, operation)
    return { key: queryKey(model, operation, scope, args, canonical), scope }
  }

  /**
   * `keyOf(...).key` of a predicted read, checked against the cache before it is queued: the same
   * predictions come back read after read, so their keys are remembered (a read's own key is not:
   * most reads that are not hits are new, and remembering costs them as much as hashing).
   */
  candidateKey(model: string, operation: string, args: unknown, canonical?: string): string {
    return this.candidateKeys.key(model, operation, this.scopeOf(model, operation), args, canonical)
  }

  private scopeOf(model: string, operation: string): string {
    // A scope given as a string (or none) is a function of no parameter (see getValidScope): it
    // cannot depend on the read or its session, which are then not looked up.
    if (this.options.scope.length === 0) return (this.options.scope as () => string)()
    const session = this.sessions.current()
    return this.options.scope({ model, operation, sessionId: session?.sessionId, userId: session?.userId })
  }

  /**
   * The entry under `key` if it is in process memory and valid under generations known without
   * I/O; undefined otherwise (not there, expired, outdated, or its validity not known so cheaply).
   * Changes nothing, counts nothing: a check before deciding whether to look a read up for real.
   */
  peekEntry(key: string): Entry | undefined {
    const entry = this.results.peekLocal(key)
    if (entry === undefined) return undefined
    const gens = this.generations.peek?.(entry.deps)
    return gens !== undefined && sameTokens(entry.gens, gens) ? entry : undefined
  }

  /** The current generations of what a read depends on, when known without I/O; else undefined. */
  peekGenerations(model: string, operation: string, args: unknown): string[] | undefined {
    return this.generations.peek?.(readKeys(this.schema, this.options.rowGenerations, model, operation, args))
  }

  /**
   * Finds the entry of a read, valid under the current generations, or says why there is none;
   * undefined when the read cannot be cached (its arguments have no faithful key, or the lookup
   * failed: reported, and the read goes to the database). Answers synchronously when the entry
   * and the generations are in process memory (the common hit), so a hit costs no promise here.
   */
  lookup(model: string, operation: string, args: unknown, canonical?: string): Lookup | undefined | Promise<Lookup | undefined> {
    try {
      // keyOf() without its pair object: this runs on every read.
      const scope = this.scopeOf(model, operation)
      const key = queryKey(model, operation, scope, args, canonical)
      const found = this.results.get(key)
      if (found instanceof Promise) return this.lookupLater(model, operation, args, key, scope, found)
      const deps = found?.deps ?? readKeys(this.schema, this.options.rowGenerations, model, operation, args)
      // Read the generations before any query is sent: a write that lands while it runs moves
      // them on, and the result stored under these tokens is then never served.
      const gens = this.generations.current(deps)
      if (gens instanceof Promise) return this.lookupLater(model, operation, args, key, scope, found, deps, gens)
      return this.settleLookup(key, scope, deps, gens, found)
    } catch (error) {
      return this.lookupFailed(error, model, operation)
    }
  }

  /** lookup() once the store or the generations answer asynchronously. */
  private async lookupLater(
    model: string,
    operation: string,
    args: unknown,
    key: string,
    scope: string,
    pending: Entry | undefined | Promise<Entry | undefined>,
    knownDeps?: string[],
    pendingGens?: Promise<string[] | undefined>,
  ): Promise<Lookup | undefined> {
    try {
      const found = await pending
      const deps = knownDeps ?? found?.deps ?? readKeys(this.schema, this.options.rowGenerations, model, operation, args)
      const gens = await (pendingGens ?? this.generations.current(deps))
      return this.settleLookup(key, scope, deps, gens, found)
    } catch (error) {
      return this.lookupFailed(error, model, operation)
    }
  }

  private settleLookup(key: string, scope: string, deps: string[], gens: string[] | undefined, found: Entry | undefined): Lookup {
    if (found !== undefined && gens !== undefined && sameTokens(found.gens, gens)) return { key, scope, deps, gens, entry: found }
    if (found !== undefined) this.results.forget(key)
    return { key, scope, deps, gens, entry: undefined }
  }

  private lookupFailed(error: unknown, model: string, operation: string): undefined {
    if (!(error instanceof UncacheableError)) this.reportError(error, { phase: 'key', model, operation })
    return undefined
  }

  /** The generation keys a read depends on and their generations now; undefined when they cannot be read (reported). */
  /** The generation keys a read depends on (as `lookup` takes them for a read not cached). */
  depsOf(model: string, operation: string, args: unknown): string[] {
    return readKeys(this.schema, this.options.rowGenerations, model, operation, args)
  }

  async generationsOf(model: string, operation: string, args: unknown): Promise<{ deps: string[]; gens: string[] } | undefined> {
    try {
      const deps = readKeys(this.schema, this.options.rowGenerations, model, operation, args)
      const gens = await this.generations.current(deps)
      return gens === undefined ? undefined : { deps, gens }
    } catch (error) {
      this.reportError(error, { phase: 'generation', model })
      return undefined
    }
  }

  /**
   * Stores a result fetched under `gens` (and, for a list, where its rows are), unless it can
   * already be seen to be outdated; says whether it did.
   */
  store(lookup: { key: string; scope: string; deps: string[] }, model: string, operation: string, args: unknown, result: unknown, gens: string[], speculation: Speculation | undefined): boolean {
    if (!this.keep(lookup.key, model, result, lookup.deps, gens, speculation)) return false
    if (operation === 'findMany' && this.rowsShared()) this.rows?.addList(lookup.scope, model, args, lookup.key, result)
    return true
  }

  /** Stores one result under `key` (no list bookkeeping); says whether it did. */
  keep(key: string, model: string, result: unknown, deps: string[], gens: string[], speculation: Speculation | undefined): boolean {
    if (this.closed || this.unsettled.anyUnsettled(deps)) return false
    try {
      // A write that landed during the query makes the entry unservable anyway; with generations
      // in process memory that is free to see, so such an entry is not even stored.
      if (this.generations instanceof LocalGenerations && !this.generations.matches(deps, gens)) return false
      // The cache's own copy, which the caller of the read never sees. Only what process memory
      // holds needs one: an entry kept in the shared store alone is encoded at once, within
      // set(), before the result reaches its caller.
      const local = this.options.l1 !== false
      const value = local ? cloneSized(result) : result
      const size = local ? clonedSize() : 0
      // A new object, given up to the store, which makes it the entry.
      this.results.set(key, {
        value,
        deps,
        gens,
        ttl: this.ttlOf(model),
        source: speculation === undefined ? 'demand' : 'prefetch',
        strategy: speculation?.strategy,
        speculation,
        size,
      })
      if (speculation !== undefined) speculation.live++
      return true
    } catch (error) {
      this.reportError(error, { phase: 'set', model })
      return false
    }
  }

  /**
   * The generations under which a row taken from a result read under `sourceDeps` (at
   * `sourceGens`, read before that query was sent) can be kept as the result of its own
   * single-row read, which depends on `deps`: the current ones, when nothing `sourceDeps` names
   * has moved since, so no write has landed on what the row read depends on (every write of a
   * row moves its model's list key on too). The row entry then outlives writes to other rows of
   * its model, which end the list. Undefined when that cannot be told: the row read depends on
   * something the source did not, or the generations are not in process memory (a shared store
   * moves a write's keys one by one, so a row key could be seen moved before its list key).
   */
  ownGenerations(deps: readonly string[], sourceDeps: readonly string[], sourceGens: readonly string[]): string[] | undefined {
    if (!(this.generations instanceof LocalGenerations) || !coveredBy(deps, sourceDeps)) return undefined
    if (!sameTokens(this.generations.current(sourceDeps), sourceGens)) return undefined
    return this.generations.current(deps)
  }

  /** Milliseconds a result of `model` may be served. */
  ttlOf(model: string): number {
    return this.options.models.get(model)?.ttl ?? this.options.ttl
  }

  /**
   * The row a single-row read by a unique field asks for, from a cached list that holds it in the
   * same shape, if that list is still valid: every model it read is at the generation it was read
   * under (a list reads at least what the row read does, so this is never less strict).
   */
  rowFromList(scope: string, model: string, args: unknown): undefined | Promise<{ row: unknown; list: Entry; position: number } | undefined> {
    if (!this.rowsShared()) return undefined
    const place = this.rows?.find(scope, model, args)
    // No list holds the row (the common miss): answered with no promise.
    return place === undefined ? undefined : this.rowAt(place)
  }

  private async rowAt(place: RowPlace): Promise<{ row: unknown; list: Entry; position: number } | undefined> {
    const list = await this.results.get(place.listKey)
    if (list === undefined || !Array.isArray(list.value)) return undefined
    const row = list.value[place.position] as Record<string, unknown> | undefined
    if (row === null || typeof row !== 'object' || !sameValue(row[place.field], place.value)) return undefined
    const current = await this.generations.current(list.deps)
    if (current === undefined || !sameTokens(current, list.gens)) return undefined
    return { row: cloneResult(row), list, position: place.position }
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

/**
 * How long a row token lives in the shared store. A row key with no token reads as never written,
 * so a token must outlive every entry that recorded the row's previous token or its absence: the
 * longest ttl an entry may have, twice over (an entry's ttl starts when it is stored, after its
 * query ran), and never less than a model token lives.
 */
function rowTokenTtl(options: ResolvedOptions): number {
  let longest = options.ttl
  for (const model of options.models.values()) longest = Math.max(longest, model.ttl)
  return Math.max(GENERATION_TTL_MS, 2 * longest)
}

/**
 * Whether an entry stored under `listDeps` is at least as strict as one under `rowDeps`: every
 * key of the row read is in `listDeps`, or is a row key of a model whose list key is (every write
 * that moves a row's generation on moves its model's list generation on too).
 */
export function coveredBy(rowDeps: readonly string[], listDeps: readonly string[]): boolean {
  return rowDeps.every((key) => listDeps.includes(key) || (key.includes('#') && listDeps.includes(modelOfKey(key))))
}

/** Whether two lists of generation tokens are the same. */
export function sameTokens(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
