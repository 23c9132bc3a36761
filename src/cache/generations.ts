/**
 * Generations: tokens moved on by writes, in this process, in the shared store, or reused for a
 * bounded time (`maxStalenessMs`). Three kinds of key (see docs/invalidation.md):
 * - `Model`: the model's list generation, moved on by every write to the model; lists, counts,
 *   aggregates and every read that cannot name one row depend on it.
 * - `Model#rows`: every row of the model at once, moved on by a write whose rows are not known
 *   (a filter, raw SQL, a cascade); every row read of the model depends on it.
 * - `Model#field=value`: one row, named by one of its unique fields, moved on by a write that
 *   knows it changed that row. A row key that was never written reads as `ROW_ABSENT`, so the
 *   store holds a token only for rows written within `rowTtlMs`.
 */

import { randomBytes } from 'node:crypto'
import { BoundedMap } from '../bounded-map.ts'
import { guarded, stored } from './guard.ts'
import type { KeyvLike } from '../types.ts'

/** The key every row read of `model` depends on, moved on when its written rows are not known. */
export function rowsKey(model: string): string {
  let key = rowsKeys.get(model)
  // Remembered for the models met (every row read names one), within a bound.
  if (key === undefined && rowsKeys.size < MAX_REMEMBERED_MODELS) rowsKeys.set(model, (key = `${model}#rows`))
  return key ?? `${model}#rows`
}

/** `rowsKey` texts, and `rowKey` texts before the value (by model, then field): at most 1024 of each. */
const rowsKeys = new Map<string, string>()
const rowKeyPrefixes = new Map<string, Map<string, string>>()
let rowKeyPrefixCount = 0
const MAX_REMEMBERED_MODELS = 1024

/** The key of one row of `model`: `value` is the canonical text of its unique `field`. */
export function rowKey(model: string, field: string, value: string): string {
  let byField = rowKeyPrefixes.get(model)
  let prefix = byField?.get(field)
  if (prefix === undefined) {
    prefix = `${model}#${field}=`
    if (rowKeyPrefixCount < MAX_REMEMBERED_MODELS) {
      if (byField === undefined) rowKeyPrefixes.set(model, (byField = new Map()))
      byField.set(field, prefix)
      rowKeyPrefixCount++
    }
  }
  return prefix + value
}

/** The model a generation key belongs to (model names never hold `#`). */
export function modelOfKey(key: string): string {
  const at = key.indexOf('#')
  return at < 0 ? key : key.slice(0, at)
}

/** Whether `key` names one row (rather than a model's lists or all its rows). */
export function isRowKey(key: string): boolean {
  const at = key.indexOf('#')
  // `key.slice(at) !== '#rows'`, without the slice.
  return at >= 0 && !(key.length - at === 5 && key.endsWith('#rows'))
}

/** The keys a write moves on when it may have changed any row of `model`. */
export function wholeModelKeys(model: string): [string, string] {
  return [model, rowsKey(model)]
}

/** The token of a row key no write has set (or whose token expired): never a written token. */
export const ROW_ABSENT = '-'

/**
 * A generation is an opaque token per model that changes on every write to the model. A cached
 * entry records the tokens of every model its query read and is served only while all of them
 * are still current, so invalidation never needs to find or delete entries.
 */
export interface GenerationStore {
  /**
   * The current tokens of `models`, in order, or `undefined` when they cannot be known right now
   * (the store is unreachable): the caller then neither serves nor stores.
   */
  current(models: readonly string[]): string[] | undefined | Promise<string[] | undefined>
  /**
   * The current tokens of `models` when this store knows them without asking anyone (no I/O, no
   * side effect), else undefined; the same tokens `current()` would give now. Optional: a store
   * without it is never asked so cheaply.
   */
  peek?(models: readonly string[]): string[] | undefined
  /** Gives each model a new token. Resolves when other processes can see it (or it failed). */
  bump(models: Iterable<string>): Promise<void>
  /** Last attempt at anything pending; stops every timer. */
  close?(): Promise<void>
}

/** Default bound on the row generations one process holds (`maxRowGenerations`). */
export const DEFAULT_MAX_ROW_GENERATIONS = 100_000

/**
 * Generations of one process: counters in a map, read synchronously. Row counters are bounded
 * (`maxRows`): forgetting one would let its row read as never written again, so the row's model
 * moves its `#rows` key on instead, which ends every row read of that model (never a stale one).
 */
export class LocalGenerations implements GenerationStore {
  private readonly tokens = new Map<string, number>()
  private readonly rows: BoundedMap<string, number>

  constructor(maxRows = DEFAULT_MAX_ROW_GENERATIONS) {
    this.rows = new BoundedMap(maxRows, (key) => this.add(rowsKey(modelOfKey(key))))
  }

  peek(keys: readonly string[]): string[] {
    return this.current(keys)
  }

  current(keys: readonly string[]): string[] {
    const out = new Array<string>(keys.length)
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      out[i] = String((isRowKey(key) ? this.rows.get(key) : this.tokens.get(key)) ?? 0)
    }
    return out
  }

  /** Whether `current(keys)` would give `tokens`, without making that list. */
  matches(keys: readonly string[], tokens: readonly string[]): boolean {
    if (keys.length !== tokens.length) return false
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      if (String((isRowKey(key) ? this.rows.get(key) : this.tokens.get(key)) ?? 0) !== tokens[i]) return false
    }
    return true
  }

  bump(keys: Iterable<string>): Promise<void> {
    for (const key of keys) {
      if (isRowKey(key)) this.rows.remember(key, (this.rows.get(key) ?? 0) + 1)
      else this.add(key)
    }
    return Promise.resolve()
  }

  /** Row generations held now (at most `maxRows`). */
  get rowCount(): number {
    return this.rows.size
  }

  private add(key: string): void {
    this.tokens.set(key, (this.tokens.get(key) ?? 0) + 1)
  }
}

/** How long a generation token lives in a shared store; an expired one reads as a fresh token. */
export const GENERATION_TTL_MS = 24 * 60 * 60 * 1000
/** First wait before a bump that could not reach the store is tried again; doubles up to the max. */
const RETRY_FIRST_MS = 100
const RETRY_MAX_MS = 2000

/**
 * Generations kept in a shared keyv store, so every process sharing it sees every write.
 *
 * A bump writes a fresh unique token rather than incrementing: two concurrent writers then both
 * leave a token no existing entry recorded, and no bump can be lost to a read-modify-write race.
 * A token that is missing (never written, expired or evicted) is replaced by a fresh one before it
 * is used, so an entry can never match a token that later disappears and reappears.
 * If a bump cannot reach the store, the model is remembered as dirty: until a later bump of it
 * succeeds, this process treats its generations as unknown and serves nothing that read it. Other
 * processes cannot know of that write until the bump lands, so it is tried again in the background
 * (after 100 ms, doubling up to 2 s, on an unref'd timer) until it does, and once more on close.
 *
 * A row key is the exception: a missing one reads as `ROW_ABSENT` and is not written, so only
 * writes create row tokens. That is safe because a row token lives (`rowTtlMs`) longer than any
 * entry that could have recorded its absence, so it cannot disappear while such an entry is still
 * served; it relies on the store keeping a key until its TTL (a store that evicts keys early
 * under memory pressure should run with `rowGenerations: false`): a row token deleted, evicted or
 * unreadable within its TTL makes its row read as never written. A value that is there but is not
 * a token (another type, or `ROW_ABSENT` itself) is replaced by a fresh token. Dirty row keys beyond
 * `maxRows` are folded into their model's `#rows` key, which covers them.
 *
 * Keyv, and adapters such as `@keyv/redis`, report many failures only as an 'error' event and
 * resolve the call as if it had worked (`set` with true, `getMany` with missing values). So a
 * store call during which the store emitted an error counts as failed, whichever call the error
 * was about: a healthy write may be retried needlessly, a failed one is never taken for done.
 */
export class SharedGenerations implements GenerationStore {
  private readonly processTag = randomBytes(6).toString('base64url')
  private counter = 0
  private readonly dirty = new Set<string>()
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private retryMs = RETRY_FIRST_MS
  private closed = false
  private storeErrors = 0
  private readonly countStoreError = () => void this.storeErrors++

  constructor(
    private readonly store: KeyvLike,
    private readonly timeoutMs: number,
    private readonly reportError: (error: unknown) => void,
    private readonly prefix = 'prisma-prefetch:gen:',
    /** How long a row token lives in the store: longer than any entry may be served. */
    private readonly rowTtlMs = GENERATION_TTL_MS,
    /** Row keys remembered as dirty at most; more are folded into their model's `#rows` key. */
    private readonly maxRows = DEFAULT_MAX_ROW_GENERATIONS,
  ) {
    store.on?.('error', this.countStoreError)
  }

  private freshToken(): string {
    return `${this.processTag}.${(++this.counter).toString(36)}`
  }

  private keyOf(model: string): string {
    return this.prefix + model
  }

  async current(models: readonly string[]): Promise<string[] | undefined> {
    for (const model of models) {
      if (this.dirty.has(model) && !(await this.write(model))) return undefined
    }
    const keys = models.map((model) => this.keyOf(model))
    // One getMany, but not one snapshot: on a Redis Cluster the tokens live in different slots and
    // @keyv/redis sends one MGET per slot. None is needed: each token read on its own already
    // shows every bump that completed before the read began, and that is all a check relies on.
    const errorsBefore = this.storeErrors
    const values = await guarded(
      () => (this.store.getMany ? this.store.getMany(keys) : Promise.all(keys.map((key) => this.store.get(key)))),
      this.timeoutMs,
      this.reportError,
    )
    // Missing values read while the store reported an error may be the error, not missing tokens.
    if (values === undefined || this.storeErrors !== errorsBefore) return undefined
    const tokens = new Array<string>(models.length)
    for (let i = 0; i < models.length; i++) {
      const value = values[i]
      if (typeof value === 'string' && value !== ROW_ABSENT) {
        tokens[i] = value
        continue
      }
      // A row key with no value was never written (or its token expired); a value that is not a
      // token this code writes was forged or corrupted, and is replaced like a missing model token.
      if (value === undefined && isRowKey(models[i])) {
        tokens[i] = ROW_ABSENT
        continue
      }
      const token = this.freshToken()
      if (!(await this.write(models[i], token))) return undefined
      tokens[i] = token
    }
    return tokens
  }

  async bump(models: Iterable<string>): Promise<void> {
    await Promise.all([...models].map((model) => this.write(model)))
  }

  private async write(model: string, token = this.freshToken()): Promise<boolean> {
    let failed = false
    const errorsBefore = this.storeErrors
    const ttl = isRowKey(model) ? this.rowTtlMs : GENERATION_TTL_MS
    await guarded(() => stored(this.store.set(this.keyOf(model), token, ttl)), this.timeoutMs, (error) => {
      failed = true
      this.reportError(error)
    })
    if (this.storeErrors !== errorsBefore) failed = true
    if (failed) this.markDirty(model)
    else this.dirty.delete(model)
    if (this.dirty.size > 0) this.scheduleRetry()
    return !failed
  }

  /** Remembers `key` as not yet written; row keys past `maxRows` as their model's `#rows` key. */
  private markDirty(key: string): void {
    this.dirty.add(key)
    if (this.dirty.size <= this.maxRows || !isRowKey(key)) return
    for (const dirty of [...this.dirty]) {
      if (!isRowKey(dirty)) continue
      this.dirty.delete(dirty)
      this.dirty.add(rowsKey(modelOfKey(dirty)))
    }
  }

  /** Keys remembered as not yet written (bounded by `maxRows` row keys plus two per model). */
  get dirtyCount(): number {
    return this.dirty.size
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.closed) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.bump(this.dirty).then(() => {
        this.retryMs = this.dirty.size > 0 ? Math.min(this.retryMs * 2, RETRY_MAX_MS) : RETRY_FIRST_MS
      })
    }, this.retryMs)
    this.retryTimer.unref?.()
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    if (this.dirty.size > 0) await this.bump(this.dirty)
    this.store.off?.('error', this.countStoreError)
  }
}

/**
 * Bounded staleness over a shared generation store: tokens read from it are reused for up to
 * `maxStalenessMs`, so a hit within that window needs no round trip. A write made in another
 * process is therefore seen here at most `maxStalenessMs` after it completed; a write made in this
 * process is seen at once (its models are read afresh after every local bump, and a read that
 * started before the bump never caches what it got).
 */
export class BoundedGenerations implements GenerationStore {
  private readonly known: BoundedMap<string, { token: string; readAt: number }>
  /**
   * Per key, the sequence number of the last bump started in this process: a read that
   * overlapped one does not cache. Bounded: a key forgotten reads as `floor`, the highest number
   * forgotten, so a read that overlapped a forgotten bump still sees its number change.
   */
  private readonly epochs: BoundedMap<string, number>
  private sequence = 0
  private floor = 0

  constructor(
    private readonly shared: SharedGenerations,
    private readonly maxStalenessMs: number,
    /** The clock ages are measured by: monotonic (performance.now) unless a test injects one. */
    private readonly now: () => number,
    /** Keys whose tokens (and bump numbers) are kept at most; the least recent are read afresh. */
    maxKeys = 10_000,
  ) {
    this.known = new BoundedMap(maxKeys)
    this.epochs = new BoundedMap(maxKeys, (_key, value) => {
      if (value > this.floor) this.floor = value
    })
  }

  private epochOf(key: string): number {
    return this.epochs.get(key) ?? this.floor
  }

  peek(models: readonly string[]): string[] | undefined {
    const now = this.now()
    const tokens = new Array<string>(models.length)
    for (let i = 0; i < models.length; i++) {
      // `get` of a BoundedMap does not touch recency: a peek changes nothing.
      const known = this.known.get(models[i])
      if (known === undefined || !fresh(now - known.readAt, this.maxStalenessMs)) return undefined
      tokens[i] = known.token
    }
    return tokens
  }

  current(models: readonly string[]): string[] | undefined | Promise<string[] | undefined> {
    const now = this.now()
    const tokens = new Array<string>(models.length)
    let stale: string[] | undefined
    for (let i = 0; i < models.length; i++) {
      const known = this.known.get(models[i])
      if (known !== undefined && fresh(now - known.readAt, this.maxStalenessMs)) tokens[i] = known.token
      else (stale ??= []).push(models[i])
    }
    if (stale === undefined) return tokens
    return this.refresh(models, tokens, stale, now)
  }

  private async refresh(models: readonly string[], tokens: string[], stale: string[], startedAt: number): Promise<string[] | undefined> {
    const epochs = stale.map((model) => this.epochOf(model))
    const fresh = await this.shared.current(stale)
    if (fresh === undefined) return undefined
    stale.forEach((model, i) => {
      // A bump that started while this read ran may or may not be in what it got: don't keep it.
      if (this.epochOf(model) !== epochs[i]) return
      this.known.remember(model, { token: fresh[i], readAt: startedAt })
    })
    const byModel = new Map(stale.map((model, i) => [model, fresh[i]]))
    return models.map((model, i) => tokens[i] ?? byModel.get(model)!)
  }

  async bump(models: Iterable<string>): Promise<void> {
    const list = [...models]
    this.forget(list)
    await this.shared.bump(list)
    // Reads that start from now on fetch the new token; reads still running keep the epoch check.
    this.forget(list)
  }

  close(): Promise<void> {
    return this.shared.close()
  }

  /** Drops the tokens of `models` and marks every read of them running now as not to be kept. */
  private forget(models: readonly string[]): void {
    for (const model of models) {
      this.epochs.remember(model, ++this.sequence)
      this.known.delete(model)
    }
  }
}

/**
 * Whether a token read `age` ms ago may still be used. A negative age means the clock stepped
 * back since: the token is read afresh rather than kept for as long as the clock was set back.
 */
function fresh(age: number, maxStalenessMs: number): boolean {
  return age >= 0 && age <= maxStalenessMs
}
