/**
 * Deep copies of results, so a caller never shares a mutable object with the cache.
 */

import type { DecimalSupport } from './codec.ts'

/**
 * A deep copy of a Prisma result, so that a caller mutating what it was served never changes the
 * cached copy (nor another caller's). Plain objects, arrays, Dates and byte arrays are copied;
 * Decimals are immutable and shared; primitives are returned as they are.
 *
 * Much faster than structuredClone, which also turns a Decimal into a plain object. It assumes
 * a tree, as Prisma returns: there is no cycle detection (an object met twice is copied twice).
 */
export function cloneResult<T>(value: T, decimal?: DecimalSupport): T {
  // `decimal` is not needed to copy: every object that is not a plain object, an array, a Date or
  // a byte array is shared, and the only such object in a Prisma result is a Decimal. It stays in
  // the signature so callers hand it over should that ever change.
  void decimal
  return copy(value) as T
}

function copy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    const length = value.length
    const out = new Array(length)
    for (let i = 0; i < length; i++) out[i] = copy(value[i])
    return out
  }
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = proto === null ? Object.create(null) : {}
    // Own enumerable keys in Object.keys order, without the list of them Object.keys makes.
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue
      const item = copy((value as Record<string, unknown>)[key])
      // Assigning to '__proto__' would set the copy's prototype; a Json value parsed from
      // '{"__proto__": ...}' has it as an own data property, and so must the copy.
      if (key === '__proto__') Object.defineProperty(out, key, { value: item, writable: true, enumerable: true, configurable: true })
      else out[key] = item
    }
    return out
  }
  if (value instanceof Date) return new Date(value.getTime())
  if (value instanceof Uint8Array) {
    // Keep the type: a Uint8Array stays a Uint8Array and a Buffer a Buffer. Buffer#slice would
    // return a view rather than a copy, hence Buffer.from.
    if (Buffer.isBuffer(value)) return Buffer.from(value)
    return value.slice()
  }
  // A Decimal (immutable) or anything else a Prisma result does not hold: shared as it is.
  return value
}

/** Bytes counted by the walk of cloneSized() under way (one walk at a time: it is synchronous). */
let counted = 0

/**
 * cloneResult() and estimateSize() (store.ts) of the copy in one walk, as a read stored in the
 * cache needs both: the size, exactly estimateSize(copy), is `clonedSize()` right after (no pair
 * object made on every miss).
 */
export function cloneSized<T>(value: T): T {
  counted = 0
  return copySized(value, 0) as T
}

/** estimateSize() of what the last cloneSized() returned. */
export function clonedSize(): number {
  return counted
}

function copySized(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      counted += 16 + value.length * 2
      return value
    case 'bigint':
      counted += 16
      return value
    case 'object':
      break
    default:
      counted += 8
      return value
  }
  if (value === null) {
    counted += 8
    return value
  }
  if (depth > 64) {
    // estimateSize stops measuring this deep; the copy still goes all the way down.
    counted += 64
    return copy(value)
  }
  if (Array.isArray(value)) {
    const length = value.length
    const out = new Array(length)
    counted += 32 + 8 * length
    for (let i = 0; i < length; i++) out[i] = copySized(value[i], depth + 1)
    return out
  }
  if (ArrayBuffer.isView(value)) {
    counted += 64 + value.byteLength
    return copy(value)
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) {
    counted += 64
    return copy(value)
  }
  const out: Record<string, unknown> = proto === null ? Object.create(null) : {}
  counted += 32
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue
    counted += 16 + key.length * 2
    const item = copySized((value as Record<string, unknown>)[key], depth + 1)
    if (key === '__proto__') Object.defineProperty(out, key, { value: item, writable: true, enumerable: true, configurable: true })
    else out[key] = item
  }
  return out
}
