/**
 * The type-preserving codec (devalue) of everything written to the shared store: Date, BigInt,
 * Decimal, bytes and Json survive the round trip; anything foreign or corrupt decodes to a miss.
 */

import { parse, stringify } from 'devalue'

/**
 * How the codec recognises and rebuilds Prisma's Decimal without importing Prisma: the caller
 * injects it. `isDecimal` is only asked about objects that are not plain objects, arrays, Dates or
 * byte arrays.
 */
export interface DecimalSupport {
  isDecimal(value: unknown): boolean
  fromString(text: string): unknown
}

/** Turns query results into the strings a keyv store holds, and back, keeping every type. */
export interface Codec {
  encode(value: unknown): string
  /** Throws CodecError on anything malformed, foreign, or written by another format version. */
  decode(text: string): unknown
}

export class CodecError extends Error {
  override name = 'CodecError'
}

/**
 * Every encoding starts with this. Bump the number whenever the encoded form changes meaning, so
 * that entries written by an older or newer release read as misses instead of wrong values.
 */
const VERSION = 'pp1:'

// devalue tags of our own reducers and revivers.
const DECIMAL = 'Decimal'
const BYTES = 'Bytes'
const KEYED = 'Keyed'

// Types devalue would otherwise rebuild from a payload, none of which a Prisma result contains.
// A reviver for a tag takes precedence over devalue's built-in handling, so registering one that
// throws is how a forged payload is kept from producing a Map, a RegExp, a null-prototype object,
// a boxed primitive, a bare ArrayBuffer and so on. `Uint8Array` is refused too: bytes are encoded
// under our own BYTES tag, never devalue's (which may carry a whole shared ArrayBuffer plus an
// offset and is revived through a separate ArrayBuffer entry).
const REFUSED_TAGS = [
  'Set',
  'Map',
  'RegExp',
  'Object',
  'null',
  'URL',
  'URLSearchParams',
  'ArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Float16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'Temporal.Duration',
  'Temporal.Instant',
  'Temporal.PlainDate',
  'Temporal.PlainTime',
  'Temporal.PlainDateTime',
  'Temporal.PlainMonthDay',
  'Temporal.PlainYearMonth',
  'Temporal.ZonedDateTime',
]

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/**
 * A codec built on devalue (chosen by measurement, see bench/codec.ts): JSON text that keeps
 * Date, BigInt, undefined, -0, NaN and ±Infinity natively, extended through devalue's own
 * reducers and revivers for Decimal, bytes and objects with an own `__proto__` key.
 */
export function createCodec(decimal?: DecimalSupport): Codec {
  // Reducers run, in order, on every value devalue meets (primitives too), so each one bails out
  // on the cheapest test first.
  const reducers: Record<string, (value: unknown) => unknown> = {
    [DECIMAL]: (value) => {
      if (decimal === undefined || typeof value !== 'object' || value === null || Array.isArray(value)) return false
      const proto = Object.getPrototypeOf(value)
      if (proto === Object.prototype || value instanceof Date || value instanceof Uint8Array) return false
      if (!decimal.isDecimal(value)) return false
      // decimal.js's valueOf is its toString with the sign of zero kept ('-0'). Either text is
      // never '' ('0' at least), which matters: devalue skips a reducer returning a falsy value.
      const text = (value as { valueOf(): unknown }).valueOf()
      return typeof text === 'string' && text !== '' ? text : String(value)
    },
    // Only the visible bytes, whether of a Uint8Array or a Buffer (a Buffer can be a view into
    // a shared pool); revived as a plain Uint8Array, which is what Prisma 7 returns. Wrapped in
    // an array because devalue ignores a reducer that returns '' (the empty byte string).
    [BYTES]: (value) => value instanceof Uint8Array && [toBase64(value)],
    [KEYED]: (value) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
      const proto = Object.getPrototypeOf(value)
      if (proto === Object.prototype) {
        // devalue refuses an object with an own `__proto__` key both ways. A Json column can hold
        // one (JSON.parse makes it an own data property), so such an object is sent as a flat
        // list of keys and values; devalue still encodes those values with every type kept.
        if (!Object.hasOwn(value, '__proto__')) return false
        const entries: unknown[] = []
        for (const key of Object.keys(value)) entries.push(key, (value as Record<string, unknown>)[key])
        return entries
      }
      if (value instanceof Date) return false
      // Anything else is no part of a Prisma result (or a Decimal with no DecimalSupport given).
      // devalue would refuse most of it anyway, but would encode a null-prototype object, and
      // an instance whose prototype's prototype is null, as plain objects, and decode builds
      // neither: refuse here, at once and with one message.
      throw new CodecError(`prisma-prefetch: cannot encode a ${Object.prototype.toString.call(value).slice(8, -1)} object`)
    },
  }

  const revivers: Record<string, (value: any) => unknown> = {}
  for (const tag of REFUSED_TAGS) {
    revivers[tag] = () => {
      throw new CodecError(`prisma-prefetch: a cache entry holds a ${tag}, which no query result contains`)
    }
  }
  revivers[DECIMAL] = (text) => {
    if (decimal === undefined) throw new CodecError('prisma-prefetch: a cache entry holds a Decimal but no DecimalSupport was given')
    if (typeof text !== 'string') throw new CodecError('prisma-prefetch: malformed Decimal in a cache entry')
    return decimal.fromString(text)
  }
  revivers[BYTES] = (wrapped) => {
    if (!Array.isArray(wrapped) || wrapped.length !== 1 || typeof wrapped[0] !== 'string' || !BASE64.test(wrapped[0])) {
      throw new CodecError('prisma-prefetch: malformed bytes in a cache entry')
    }
    return fromBase64(wrapped[0])
  }
  revivers[KEYED] = (entries) => {
    if (!Array.isArray(entries) || entries.length % 2 !== 0) throw new CodecError('prisma-prefetch: malformed object in a cache entry')
    const object: Record<string, unknown> = {}
    for (let i = 0; i < entries.length; i += 2) {
      const key = entries[i]
      if (typeof key !== 'string') throw new CodecError('prisma-prefetch: malformed object in a cache entry')
      // Plain assignment to '__proto__' would set the prototype instead of making a key.
      Object.defineProperty(object, key, { value: entries[i + 1], writable: true, enumerable: true, configurable: true })
    }
    return object
  }

  return {
    encode(value) {
      try {
        return VERSION + stringify(value, reducers)
      } catch (error) {
        if (error instanceof CodecError) throw error
        throw new CodecError(`prisma-prefetch: cannot encode a query result: ${messageOf(error)}`, { cause: error })
      }
    },
    decode(text) {
      if (typeof text !== 'string' || !text.startsWith(VERSION)) {
        throw new CodecError('prisma-prefetch: not a cache entry of this format version')
      }
      try {
        const value = parse(text.slice(VERSION.length), revivers)
        assertTree(value, new Set())
        return value
      } catch (error) {
        if (error instanceof CodecError) throw error
        // JSON syntax errors (garbage, truncation), devalue's own checks (bad indexes, unknown
        // tags, `__proto__` keys), a failing fromString, a too-deep payload.
        throw new CodecError(`prisma-prefetch: malformed cache entry: ${messageOf(error)}`, { cause: error })
      }
    },
  }
}

/**
 * devalue keeps shared references and cycles, so a forged entry of a few bytes could decode to a
 * cyclic graph, or to a chain of objects each referenced twice by the one before, which a deep
 * copy or a size estimate walking it would never finish (2^depth paths). Prisma results, and so
 * everything `encode` is given, are trees: refuse any object or array reached twice. Dates, bytes
 * and Decimals are leaves and may be shared. Costs about a tenth of the decode time.
 */
function assertTree(value: unknown, seen: Set<object>): void {
  if (typeof value !== 'object' || value === null) return
  if (Array.isArray(value)) {
    if (seen.has(value)) throw new CodecError('prisma-prefetch: a cache entry is not a tree')
    seen.add(value)
    for (let i = 0; i < value.length; i++) assertTree(value[i], seen)
    return
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return
  if (seen.has(value)) throw new CodecError('prisma-prefetch: a cache entry is not a tree')
  seen.add(value)
  for (const key of Object.keys(value)) assertTree((value as Record<string, unknown>)[key], seen)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

function fromBase64(text: string): Uint8Array {
  const buffer = Buffer.from(text, 'base64')
  // A copy into a Uint8Array of its own: a Buffer is another type, and may share Node's pool.
  return new Uint8Array(buffer)
}
