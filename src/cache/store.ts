import { LRUCache } from 'lru-cache'
import { guarded, stored } from './guard.ts'
import type { Codec } from './codec.ts'
import type { KeyvLike } from '../types.ts'

/** One cached query result and what it takes for it to still be servable. */
export interface Entry {
  /** The result, a private copy: it is cloned before it is handed to a caller. */
  value: unknown
  /** Every model the query read. */
  deps: string[]
  /** The generation tokens of `deps` read before the query was sent. */
  gens: string[]
  /** Clock time after which the entry is never served. */
  expiresAt: number
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
}

export interface Speculation {
  strategy: string
  used: boolean
  /** Entries of this process holding its result now (a fan-out has one per row). */
  live: number
  /** Counted as wasted: its last entry went before it served a read (a late joiner may still use it). */
  wasted?: boolean
}

export interface ResultStoreOptions {
  l1: { maxEntries: number; maxBytes: number } | false
  store: KeyvLike | undefined
  codec: Codec
  timeoutMs: number
  now: () => number
  /** Told about every store or decode failure; the call then behaves as a miss. */
  reportError: (error: unknown, phase: 'get' | 'set' | 'decode') => void
  /** Told of every entry leaving process memory (evicted, expired, replaced, deleted). */
  onDispose?: (entry: Entry) => void
  prefix?: string
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
    const local = this.l1?.get(key)
    if (local !== undefined) {
      if (local.expiresAt > this.options.now()) return local
      this.l1!.delete(key)
    }
    const store = this.options.store
    if (store === undefined) return undefined
    return guarded(() => store.get(this.prefix + key), this.options.timeoutMs, (error) =>
      this.options.reportError(error, 'get'),
    ).then((stored) => {
      if (stored === undefined || stored === null) return undefined
      const entry = this.decode(stored)
      if (entry === undefined || entry.expiresAt <= this.options.now()) return undefined
      this.l1?.set(key, entry)
      return entry
    })
  }

  /** Stores `entry` in L1 at once and in the keyv store in the background. */
  set(key: string, entry: Entry): void {
    const ttl = entry.expiresAt - this.options.now()
    if (ttl <= 0) return
    const store = this.options.store
    if (store !== undefined) {
      let text: string
      try {
        text = this.options.codec.encode({
          deps: entry.deps,
          gens: entry.gens,
          expiresAt: entry.expiresAt,
          source: entry.source,
          strategy: entry.strategy,
          value: entry.value,
        })
      } catch (error) {
        this.options.reportError(error, 'set')
        return
      }
      entry.size = text.length
      this.track(guarded(() => stored(store.set(this.prefix + key, text, ttl)), this.options.timeoutMs, (error) =>
        this.options.reportError(error, 'set'),
      ))
    }
    this.l1?.set(key, entry)
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
   * Reads a stored entry back. Anything that is not exactly what `set` wrote (garbage, another
   * format version, a forged object) is reported and treated as a miss.
   */
  private decode(stored: unknown): Entry | undefined {
    try {
      if (typeof stored !== 'string') throw new TypeError('prisma-prefetch: a cache entry is not a string')
      const raw = this.options.codec.decode(stored) as Record<string, unknown> | null
      if (
        raw === null ||
        typeof raw !== 'object' ||
        !isStringArray(raw.deps) ||
        !isStringArray(raw.gens) ||
        raw.deps.length !== raw.gens.length ||
        typeof raw.expiresAt !== 'number' ||
        (raw.source !== 'demand' && raw.source !== 'prefetch') ||
        !('value' in raw)
      ) {
        throw new TypeError('prisma-prefetch: a cache entry has an unexpected shape')
      }
      return {
        value: raw.value,
        deps: raw.deps,
        gens: raw.gens,
        expiresAt: raw.expiresAt,
        source: raw.source,
        strategy: typeof raw.strategy === 'string' ? raw.strategy : undefined,
        size: stored.length,
      }
    } catch (error) {
      this.options.reportError(error, 'decode')
      return undefined
    }
  }
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
