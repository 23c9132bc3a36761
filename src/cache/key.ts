import { createHash } from 'node:crypto'
import { canonicalKeys, innerArea, type OrderArea } from '../argument-order.ts'

/** Thrown for arguments the key cannot represent faithfully; such a query is simply not cached. */
export class UncacheableError extends Error {}

/** Keys longer than this are replaced by their SHA-256, so key size is bounded. */
const MAX_PLAIN_KEY = 200
/** Deeper arguments than this are not cached (no real Prisma query nests this far). */
const MAX_DEPTH = 64

/**
 * A canonical text for query arguments: object keys sorted where their order does not shape the
 * result and kept where it does (the members of `select` and `include`, an aggregate's
 * selectors: src/argument-order.ts), `undefined` members dropped (Prisma treats them as absent),
 * and every value tagged with its type so that a Date, a string, a BigInt and a number never
 * produce the same text. Class instances other than the ones Prisma accepts in arguments make
 * the query uncacheable rather than risk two different arguments sharing one key.
 */
export function canonicalArgs(value: unknown): string {
  const parts: string[] = []
  write(value, parts, 0, new Set(), 'args')
  return parts.join('')
}

function write(value: unknown, out: string[], depth: number, seen: Set<object>, area: OrderArea): void {
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
      throw new UncacheableError(`cannot key a ${typeof value}`)
  }
  if (value === null) {
    out.push('N')
    return
  }
  if (depth > MAX_DEPTH) throw new UncacheableError('arguments nest too deeply to cache')
  if (seen.has(value)) throw new UncacheableError('arguments are cyclic')
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
      write(item, out, depth + 1, seen, area)
      out.push(',')
    }
    out.push(']')
  } else {
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) {
      // Prisma's null markers (Prisma.DbNull, JsonNull, AnyNull) and Prisma.skip are instances of
      // classes; their name is what distinguishes them.
      const named = value as { _getName?: () => string; constructor?: { name?: string } }
      if (typeof named._getName === 'function') {
        out.push(`e${named._getName()}`)
        seen.delete(value)
        return
      }
      throw new UncacheableError(`cannot key an instance of ${named.constructor?.name ?? 'an unknown class'}`)
    }
    const record = value as Record<string, unknown>
    // In a `fields` area the order is kept and `{a,b}` differs from `{b,a}`: Prisma returns
    // those fields in that order, so an entry filled by one must not answer the other.
    const keys = canonicalKeys(record, area)
    // Objects are written in parentheses, not braces: see queryKey.
    out.push('(')
    for (const key of keys) {
      const member = record[key]
      if (member === undefined || isSkip(member)) continue
      out.push(JSON.stringify(key), ':')
      write(member, out, depth + 1, seen, innerArea(area, key))
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

/**
 * The cache key of one query: model, operation, scope and canonical arguments. Long keys are
 * hashed, so keys stay short whatever the arguments.
 *
 * So are keys with a brace in them (from a string value or the scope): in a Redis Cluster, a key
 * holding `{...}` is placed by that part alone (a hash tag), and keys that shared one, such as
 * every `findUnique` with the same `include` had while objects were written in braces, would all
 * land in one slot of one node. Hashing the whole key is the only cure that holds for every
 * client: `{}` first should make Redis hash the whole key, but the slot function of node-redis,
 * ioredis and iovalkey (cluster-key-slot) then takes the next `{...}` as the tag, and routes
 * wrongly.
 */
export function queryKey(model: string, operation: string, scope: string, args: unknown): string {
  const text = `${model}.${operation}|${scope.length}:${scope}|${canonicalArgs(args)}`
  if (text.length <= MAX_PLAIN_KEY && !text.includes('{') && !text.includes('}')) return text
  return `#${digest(text)}`
}

/** The SHA-256 of `text`, in base64url (43 characters), or its first `length` characters. */
export function digest(text: string, length?: number): string {
  const hash = createHash('sha256').update(text).digest('base64url')
  return length === undefined ? hash : hash.slice(0, length)
}
