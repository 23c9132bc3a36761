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
  const parts: string[] = []
  write(args, parts, 0, new Set(), 'args', true)
  return parts.join('')
}

/**
 * The same text for arguments that only need comparing (deduplicating candidates, comparing row
 * shapes), never throwing: what has no faithful text is written by its kind, and such arguments
 * are refused later, where they would be keyed.
 */
export function argsText(args: unknown): string {
  const parts: string[] = []
  write(args, parts, 0, new Set(), 'args', false)
  return parts.join('')
}

/** The canonical text of one value inside arguments (every object member sorted), never throwing. */
export function valueText(value: unknown): string {
  const parts: string[] = []
  write(value, parts, 0, new Set(), 'any', false)
  return parts.join('')
}

function refuse(strict: boolean, out: string[], reason: string, text: string): void {
  if (strict) throw new UncacheableError(reason)
  out.push(text)
}

function write(value: unknown, out: string[], depth: number, seen: Set<object>, area: OrderArea, strict: boolean): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value))
      return
    case 'number':
      // Object.is keeps -0 apart from 0; NaN and Infinity print as themselves.
      out.push(Object.is(value, -0) ? 'n-0' : `n${value}`)
      return
    case 'bigint':
      out.push(`b${value}`)
      return
    case 'boolean':
      out.push(value ? 'T' : 'F')
      return
    case 'undefined':
      out.push('U')
      return
    case 'object':
      break
    default:
      // functions and symbols have no faithful text
      return refuse(strict, out, `cannot key a ${typeof value}`, `<${typeof value}>`)
  }
  if (value === null) {
    out.push('N')
    return
  }
  if (depth > MAX_DEPTH) return refuse(strict, out, 'arguments nest too deeply to cache', '…')
  if (seen.has(value)) return refuse(strict, out, 'arguments are cyclic', '<cycle>')
  const tag = Object.prototype.toString.call(value)
  if (tag === '[object Date]') {
    const time = (value as Date).getTime()
    out.push(`d${Number.isNaN(time) ? 'NaN' : time}`)
    return
  }
  if (tag === '[object Decimal]') {
    out.push(`m${String(value)}`)
    return
  }
  if (ArrayBuffer.isView(value)) {
    const bytes = value as Uint8Array
    out.push(`u${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}.`)
    return
  }
  seen.add(value)
  if (Array.isArray(value)) {
    out.push('[')
    for (const item of value) {
      write(item, out, depth + 1, seen, area, strict)
      out.push(',')
    }
    out.push(']')
  } else {
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) {
      seen.delete(value)
      // Prisma's null markers (Prisma.DbNull, JsonNull, AnyNull) and Prisma.skip are instances of
      // classes; their name is what distinguishes them.
      const named = value as { _getName?: () => string; constructor?: { name?: string } }
      if (typeof named._getName === 'function') {
        out.push(`e${named._getName()}`)
        return
      }
      const name = named.constructor?.name ?? 'an unknown class'
      return refuse(strict, out, `cannot key an instance of ${name}`, `<${tag}>`)
    }
    const record = value as Record<string, unknown>
    // In a `fields` area the order is kept and `{a,b}` differs from `{b,a}`: Prisma returns
    // those fields in that order, so an entry filled by one must not answer the other.
    const keys = canonicalKeys(record, area)
    out.push('(')
    for (const key of keys) {
      const member = record[key]
      if (member === undefined || isSkip(member)) continue
      out.push(JSON.stringify(key), ':')
      write(member, out, depth + 1, seen, innerArea(area, key), strict)
      out.push(',')
    }
    out.push(')')
  }
  seen.delete(value)
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
