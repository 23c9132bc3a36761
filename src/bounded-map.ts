/**
 * The one bounded map of the project: a Map that keeps its least recently remembered key first
 * and forgets it when a new key would pass the bound. A leaf (imports nothing), used wherever
 * memory is bounded by an option (sessions, templates, contexts, users, generations).
 */

export class BoundedMap<K, V> extends Map<K, V> {
  /**
   * The key last made the most recent. While it is held it is the last key of the map: only a new
   * key (which then becomes `last`) can go after it. Deleted, it no longer counts (`has` says so).
   */
  private last: K | undefined = undefined
  constructor(
    /** Most keys held at once (at least 1). */
    readonly max: number,
    /** Told of each key forgotten to make room (not of keys deleted). */
    private readonly onEvict?: (key: K, value: V) => void,
  ) {
    super()
    if (!(Number.isSafeInteger(max) && max >= 1)) throw new RangeError(`prisma-prefetch: a bounded map needs a positive integer bound: ${max}`)
  }

  /**
   * Sets `key` to `value` as the most recent key, forgetting the least recent one when a new key
   * would pass the bound. `set()` keeps a known key where it is (as Map does) and is bounded too.
   */
  remember(key: K, value: V): this {
    // The most recent key already (a session's next read, mostly): it stays where it is, last.
    if (key === this.last && super.has(key)) return super.set(key, value)
    this.last = key
    // A key held already: the size went down by one, so the bound cannot be passed.
    if (super.delete(key)) return super.set(key, value)
    return this.set(key, value)
  }

  /** The value of `key`, which becomes the most recent key; undefined when it is not held. */
  touch(key: K): V | undefined {
    if (!super.has(key)) return undefined
    const value = super.get(key) as V
    if (key === this.last) return value
    this.last = key
    super.delete(key)
    super.set(key, value)
    return value
  }

  override set(key: K, value: V): this {
    if (super.has(key)) return super.set(key, value)
    // A new key goes last.
    this.last = key
    if (this.size >= this.max) {
      const oldest = super.keys().next().value as K
      const evicted = super.get(oldest) as V
      super.delete(oldest)
      this.onEvict?.(oldest, evicted)
    }
    return super.set(key, value)
  }
}
