/**
 * The canonical text as src/canonical.ts wrote it before it was built in one pass (a list of parts
 * joined at the end, a Set of the objects being written): the reference the one-pass writer is
 * checked against, text for text and refusal for refusal.
 */

import { canonicalKeys, innerArea, type OrderArea } from '../../src/argument-order.ts'
import { UncacheableError } from '../../src/canonical.ts'

const MAX_DEPTH = 64

export function referenceText(args: unknown, area: OrderArea, strict: boolean): string {
  const parts: string[] = []
  write(args, parts, 0, new Set(), area, strict)
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
function isSkip(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { ifUndefined?: unknown }).ifUndefined === 'function' &&
    Object.keys(value).length === 0
  )
}
