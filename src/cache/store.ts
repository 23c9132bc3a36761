/**
 * The result store: entries in the process LRU (L1) in front of the keyv store (L2), each with the
 * generations it was read under and its ttl; store failures and timeouts read as misses.
 */

import { LRUCache } from 'lru-cache'
import { guarded, stored } from './guard.ts'
import { digest } from './key.ts'
import type { Codec } from './codec.ts'
import type { KeyvLike } from '../types.ts'

/** Characters of the key's SHA-256 kept in an entry (96 bits). */
const KEY_DIGEST_LENGTH = 16

/** One cached query result and what it takes for it to still be servable. */
export interface Entry {
  /** The result, a private copy: it is cloned before it is handed to a caller. */
  value: unknown
  /** Every model the query read. */
  deps: string[]
  /** The generation tokens of `deps` read before the query was sent. */
  gens: string[]
  /** Milliseconds the entry may be served after it was stored. */
  ttl: number
  /**
   * When it was stored, by the in-process clock (`monotonic`). For an entry read from the shared
   * store: its age there (by the wall clock) before now.
   */
  storedAt: number
  /** Who produced it: a demand query or a speculative one (and which strategy). */
  source: 'demand' | 'prefetch'
  strategy?: string
  /** Estimated bytes, for the L1 byte bound. */
  size: number
  /**
   * Set on a speculative entry made by this process (never stored in the shared store): which
   * strategy made it, and whether it has served a read yet (precision counts it once).
   */
  speculation?: Speculation
  /**
   * In process memory only: a speculative entry has served a read here (the first such read is
   * an on-time prefetch hit, the later ones plain hits), or, for a list, which of its rows have.
   */
  served?: boolean
  servedRows?: Set<number>
}

/** What the caller gives to store: an entry less the time it is stored, which the store takes. */
export type NewEntry = Omit<Entry, 'storedAt'>

export interface Speculation {
  strategy: string
  used: boolean
  /** Entries of this process holding its result now (a fan-out has one per row). */
  live: number
  /** Counted as wasted: its last entry went before it served a read (a late joiner may still use it). */
  wasted?: boolean
  /** Milliseconds its query took, once it completed (none for rows kept from a result at hand). */
  ms?: number
}

export interface ResultStoreOptions {
  l1: { maxEntries: number; maxBytes: number } | false
  store: KeyvLike | undefined
  codec: Codec
  timeoutMs: number
  /**
   * Wall-clock milliseconds (Date.now or the `now` option), written into entries of the shared
   * store: the one clock several processes have in common.
   */
  now: () => number
  /**
   * The in-process clock ages are measured by: monotonic (performance.now) unless `now` was
   * injected. An age that comes out negative, on either clock, means the clock stepped back:
   * the entry is taken as expired, never as younger than it is.
   */
  monotonic: () => number
  /** Told about every store or decode failure; the call then behaves as a miss. */
  reportError: (error: unknown, phase: 'get' | 'set' | 'decode') => void
  /** Told of every entry leaving process memory (evicted, expired, replaced, deleted). */
  onDispose?: (entry: Entry) => void
  prefix?: string
}

/** Whether an entry stored at `storedAt` may still be served at `now` (same clock). */
function alive(storedAt: number, ttl: number, now: number): boolean {
  const age = now - storedAt
  return age >= 0 && age < ttl
}

/**
 * Results by key: an in-process LRU (bounded by entries and bytes) in front of an optional keyv
 * store. It knows nothing of generations; the caller decides whether an entry is still valid.
 * Store failures are reported and turn into misses, never into errors.
 */
export class ResultStore {
  private readonly l1: LRUCache<string, Entry> | undefined
  private readonly pendingWrites = new Set<Promise<unknown>>()
  private readonly prefix: string
  /**
   * The options of every L1 `get`: lru-cache makes a new `{}` for each call given none, an
   * absent key included. Its `status` is cleared before each call, so each starts as with a new
   * object (lru-cache sets `status` on it, to an object of its own when diagnostics listen).
   */
  private readonly getOptions: { status?: undefined } = {}

  constructor(private readonly options: ResultStoreOptions) {
    this.prefix = options.prefix ?? 'prisma-prefetch:entry:'
    if (options.l1) {
      this.l1 = new LRUCache<string, Entry>({
        max: options.l1.maxEntries,
        maxSize: options.l1.maxBytes,
        sizeCalculation: (entry) => Math.max(1, entry.size),
        dispose: options.onDispose === undefined ? undefined : (entry) => options.onDispose!(entry),
      })
    }
  }

  /** The entry under `key` if one exists and has not expired; validity is the caller's to check. */
  get(key: string): Entry | undefined | Promise<Entry | undefined> {
    const local = this.localGet(key)
    if (local !== undefined) {
      if (alive(local.storedAt, local.ttl, this.options.monotonic())) return local
      this.l1!.delete(key)
    }
    const store = this.options.store
    if (store === undefined) return undefined
    const storeKey = this.prefix + key
    return guarded(() => store.get(storeKey), this.options.timeoutMs, (error) => this.options.reportError(error, 'get')).then((stored) => {
      if (stored === undefined || stored === null) return undefined
      const entry = this.decode(stored, storeKey)
      if (entry === undefined) return undefined
      this.l1?.set(key, entry)
      return entry
    })
  }

  /**
   * The entry under `key` in process memory, if it has not expired; never asks the keyv store.
   * For checks that must cost nothing (is a candidate's result cached already?).
   */
  peekLocal(key: string): Entry | undefined {
    const local = this.localGet(key)
    return local !== undefined && alive(local.storedAt, local.ttl, this.options.monotonic()) ? local : undefined
  }

  /**
   * Stores `fresh` in L1 at once and in the keyv store in the background. The object becomes the
   * entry (its `storedAt` set here, not copied: this runs on every miss); the caller gives it up.
   */
  set(key: string, fresh: NewEntry): void {
    const ttl = fresh.ttl
    if (!(ttl > 0)) return
    const entry = fresh as Entry
    entry.storedAt = this.options.monotonic()
    const store = this.options.store
    if (store !== undefined) {
      const storeKey = this.prefix + key
      let text: string
      try {
        text = this.options.codec.encode({
          // Binds the entry to its key: a store that answers a get with the value of another
          // key (a bug, a proxy, a copied value) is caught on decode.
          key: digest(storeKey, KEY_DIGEST_LENGTH),
          deps: entry.deps,
          gens: entry.gens,
          writtenAt: this.options.now(),
          ttl,
          source: entry.source,
          strategy: entry.strategy,
          value: entry.value,
        })
      } catch (error) {
        this.options.reportError(error, 'set')
        return
      }
      entry.size = text.length
      this.track(guarded(() => stored(store.set(storeKey, text, ttl)), this.options.timeoutMs, (error) =>
        this.options.reportError(error, 'set'),
      ))
    }
    this.l1?.set(key, entry)
  }

  private localGet(key: string): Entry | undefined {
    if (this.l1 === undefined) return undefined
    this.getOptions.status = undefined
    return this.l1.get(key, this.getOptions)
  }

  /** Drops the entry from process memory (the shared store keeps it until its generation or TTL ends it). */
  forget(key: string): void {
    this.l1?.delete(key)
  }

  clearLocal(): void {
    this.l1?.clear()
  }

  /** Number of entries and estimated bytes held in process memory. */
  localSize(): { entries: number; bytes: number } {
    return { entries: this.l1?.size ?? 0, bytes: this.l1?.calculatedSize ?? 0 }
  }

  /** Resolves when every background store write has finished. */
  async settled(): Promise<void> {
    while (this.pendingWrites.size > 0) await Promise.all([...this.pendingWrites])
  }

  private track(promise: Promise<unknown>): void {
    this.pendingWrites.add(promise)
    void promise.finally(() => this.pendingWrites.delete(promise))
  }

  /**
   * Reads a stored entry back. Anything that is not exactly what `set` wrote under `storeKey`
   * (garbage, another format version, a forged object, the entry of another key) is reported as
   * a decode error and treated as a miss. An entry that has expired, or whose age by this
   * process's wall clock is negative (written "in the future": a clock stepped back here, or runs
   * behind the writer's), is a plain miss: its remaining life cannot be trusted.
   */
  private decode(stored: unknown, storeKey: string): Entry | undefined {
    let raw: StoredEntry
    try {
      raw = this.parse(stored, storeKey)
    } catch (error) {
      this.options.reportError(error, 'decode')
      return undefined
    }
    const age = this.options.now() - raw.writtenAt
    if (!alive(0, raw.ttl, age)) return undefined
    return {
      value: raw.value,
      deps: raw.deps,
      gens: raw.gens,
      ttl: raw.ttl,
      // From here on its age is measured by the in-process clock, from where it is now.
      storedAt: this.options.monotonic() - age,
      source: raw.source,
      strategy: raw.strategy,
      size: (stored as string).length,
    }
  }

  private parse(stored: unknown, storeKey: string): StoredEntry {
    if (typeof stored !== 'string') throw new TypeError('prisma-prefetch: a cache entry is not a string')
    const raw = this.options.codec.decode(stored) as Record<string, unknown> | null
    if (
      raw === null ||
      typeof raw !== 'object' ||
      typeof raw.key !== 'string' ||
      !isStringArray(raw.deps) ||
      !isStringArray(raw.gens) ||
      raw.deps.length !== raw.gens.length ||
      typeof raw.writtenAt !== 'number' ||
      typeof raw.ttl !== 'number' ||
      (raw.source !== 'demand' && raw.source !== 'prefetch') ||
      !('value' in raw)
    ) {
      throw new TypeError('prisma-prefetch: a cache entry has an unexpected shape')
    }
    if (raw.key !== digest(storeKey, KEY_DIGEST_LENGTH)) throw new TypeError('prisma-prefetch: a cache entry was stored under another key')
    return {
      deps: raw.deps,
      gens: raw.gens,
      writtenAt: raw.writtenAt,
      ttl: raw.ttl,
      source: raw.source,
      strategy: typeof raw.strategy === 'string' ? raw.strategy : undefined,
      value: raw.value,
    }
  }
}

/** An entry as the shared store holds it (besides `key`, the digest of the key it was stored under). */
interface StoredEntry {
  deps: string[]
  gens: string[]
  /** Wall-clock milliseconds when it was written. */
  writtenAt: number
  ttl: number
  source: 'demand' | 'prefetch'
  strategy: string | undefined
  value: unknown
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

/**
 * A quick estimate of the bytes a result takes in memory, for the L1 byte bound. Only plain
 * objects and arrays are walked; a Decimal or any other instance counts as a small fixed size
 * (walking it with for...in would visit every method of its prototype).
 */
export function estimateSize(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return 16 + value.length * 2
    case 'bigint':
      return 16
    case 'object': {
      if (value === null) return 8
      if (depth > 64) return 64
      if (Array.isArray(value)) {
        let size = 32
        for (let i = 0; i < value.length; i++) size += 8 + estimateSize(value[i], depth + 1)
        return size
      }
      if (ArrayBuffer.isView(value)) return 64 + value.byteLength
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return 64
      let size = 32
      const record = value as Record<string, unknown>
      const keys = Object.keys(record)
      for (let i = 0; i < keys.length; i++) size += 16 + keys[i].length * 2 + estimateSize(record[keys[i]], depth + 1)
      return size
    }
    default:
      return 8
  }
}
