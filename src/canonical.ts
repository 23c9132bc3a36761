/**
 * The one canonical text of query arguments and of the values in them, on the order rule of
 * src/argument-order.ts. Cache keys, the job keys of speculative reads, the deduplication of
 * candidates, template shapes and learned constants all write arguments with it, so any two of
 * them agree exactly when the texts do.
 *
 * Object keys are sorted where their order does not shape the result and kept where it does (the
 * members of `select` and `include`, an aggregate's selectors); `undefined` and `Prisma.skip`
 * members are dropped (Prisma treats them as absent); every value is tagged with its type, so a
 * Date, a string, a BigInt and a number never produce the same text. Objects are written in
 * parentheses, not braces (see queryKey in src/cache/key.ts).
 */

import { canonicalKeys, innerArea, type OrderArea } from './argument-order.ts'

/** Thrown for arguments the key cannot represent faithfully; such a query is simply not cached. */
export class UncacheableError extends Error {}

/** Deeper arguments than this are not cached (no real Prisma query nests this far). */
const MAX_DEPTH = 64

/**
 * The canonical text of a query's arguments, faithful or refused: class instances other than the
 * ones Prisma accepts in arguments, functions, cycles and nesting deeper than 64 throw an
 * `UncacheableError` rather than risk two different arguments sharing one text.
 */
export function canonicalArgs(args: unknown): string {
  return walk(args, 'args', true)
}

/**
 * `prefix` followed by `canonicalArgs(args)`, in one pass (the cache key's text: no separate
 * canonical text to join to it).
 */
export function prefixedArgs(prefix: string, args: unknown): string {
  return prefix + walk(args, 'args', true)
}

/**
 * The same text for arguments that only need comparing (deduplicating candidates, comparing row
 * shapes), never throwing: what has no faithful text is written by its kind, and such arguments
 * are refused later, where they would be keyed.
 */
export function argsText(args: unknown): string {
  return walk(args, 'args', false)
}

/** The canonical text of one value inside arguments (every object member sorted), never throwing. */
export function valueText(value: unknown): string {
  return walk(value, 'any', false)
}

/**
 * The stack of objects being written (the ancestors of the value at each depth), for the cycle
 * check: one array lent to a walk at a time, and a new one for a walk started while it is lent
 * (a getter in the arguments that writes a text of its own). Cleared when the walk ends, so it
 * never keeps the arguments alive.
 */
let idleStack: (object | undefined)[] | undefined = []

function walk(value: unknown, area: OrderArea, strict: boolean): string {
  if (typeof value !== 'object' || value === null) return write(value, 0, EMPTY_STACK, area, strict)
  const stack = idleStack ?? []
  idleStack = undefined
  try {
    return write(value, 0, stack, area, strict)
  } finally {
    // Emptied in place: its length stays, and the next walk writes into it without growing it.
    for (let i = 0; i < stack.length; i++) stack[i] = undefined
    idleStack = stack
  }
}

/** The stack of a walk of a primitive, which never uses it. */
const EMPTY_STACK: (object | undefined)[] = []

/** Member names quoted and followed by a colon, as written (names recur: `where`, `id`, `select`). */
const quotedNames = new Map<string, string>()
/** Names `quotedNames` holds at most (the schema's fields and Prisma's operators fit; a Json filter's own keys may not). */
const MAX_QUOTED_NAMES = 1024

function quotedName(key: string): string {
  let quoted = quotedNames.get(key)
  if (quoted === undefined) {
    quoted = JSON.stringify(key) + ':'
    if (quotedNames.size < MAX_QUOTED_NAMES) quotedNames.set(key, quoted)
  }
  return quoted
}

/** Names held by the quoted-name memory now (for the test of its bound). */
export function quotedNameCount(): number {
  return quotedNames.size
}

function refuse(strict: boolean, reason: string, text: string): string {
  if (strict) throw new UncacheableError(reason)
  return text
}

/**
 * The text of `value` at `depth`; `stack[0..depth)` holds the objects it is written inside. The
 * text is built by appending to one string (no list of parts joined at the end).
 */
function write(value: unknown, depth: number, stack: (object | undefined)[], area: OrderArea, strict: boolean): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      // Object.is keeps -0 apart from 0; NaN and Infinity print as themselves.
      return Object.is(value, -0) ? 'n-0' : `n${value}`
    case 'bigint':
      return `b${value}`
    case 'boolean':
      return value ? 'T' : 'F'
    case 'undefined':
      return 'U'
    case 'object':
      break
    default:
      // functions and symbols have no faithful text
      return refuse(strict, `cannot key a ${typeof value}`, `<${typeof value}>`)
  }
  if (value === null) return 'N'
  if (depth > MAX_DEPTH) return refuse(strict, 'arguments nest too deeply to cache', '…')
  for (let i = 0; i < depth; i++) if (stack[i] === value) return refuse(strict, 'arguments are cyclic', '<cycle>')
  const tag = Object.prototype.toString.call(value)
  if (tag === '[object Date]') {
    const time = (value as Date).getTime()
    return `d${Number.isNaN(time) ? 'NaN' : time}`
  }
  if (tag === '[object Decimal]') return `m${String(value)}`
  if (ArrayBuffer.isView(value)) {
    const bytes = value as Uint8Array
    return `u${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}.`
  }
  if (Array.isArray(value)) {
    stack[depth] = value
    let text = '['
    for (const item of value) {
      text += write(item, depth + 1, stack, area, strict)
      text += ','
    }
    return text + ']'
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) {
    // Prisma's null markers (Prisma.DbNull, JsonNull, AnyNull) and Prisma.skip are instances of
    // classes; their name is what distinguishes them.
    const named = value as { _getName?: () => string; constructor?: { name?: string } }
    if (typeof named._getName === 'function') return `e${named._getName()}`
    const name = named.constructor?.name ?? 'an unknown class'
    return refuse(strict, `cannot key an instance of ${name}`, `<${tag}>`)
  }
  stack[depth] = value
  const record = value as Record<string, unknown>
  // In a `fields` area the order is kept and `{a,b}` differs from `{b,a}`: Prisma returns
  // those fields in that order, so an entry filled by one must not answer the other.
  const only = onlyKey(record)
  if (only !== undefined) return `(${member(record, only, depth, stack, area, strict)})`
  let text = '('
  for (const key of canonicalKeys(record, area)) text += member(record, key, depth, stack, area, strict)
  return text + ')'
}

/** The text of one member (`"name":value,`), or '' for a member Prisma treats as absent. */
function member(record: Record<string, unknown>, key: string, depth: number, stack: (object | undefined)[], area: OrderArea, strict: boolean): string {
  const value = record[key]
  if (value === undefined || isSkip(value)) return ''
  return quotedName(key) + write(value, depth + 1, stack, innerArea(area, key), strict) + ','
}

/**
 * The name of the one own enumerable member of `record`, when it has exactly one (the common
 * `where: { id }`): found without a list of its names. Undefined for none or several.
 */
function onlyKey(record: Record<string, unknown>): string | undefined {
  let only: string | undefined
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue
    if (only !== undefined) return undefined
    only = key
  }
  return only
}

/** `Prisma.skip` marks a member as absent, exactly like `undefined`. */
function isSkip(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { ifUndefined?: unknown }).ifUndefined === 'function' &&
    Object.keys(value).length === 0
  )
}
