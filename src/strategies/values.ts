/** Value helpers shared by the strategies: matching, keys, and plain-object tests. */

import { canonicalKeys, innerArea, type OrderArea } from '../argument-order.ts'

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Strings longer than this are not treated as keys a later query could reuse. */
export const MAX_KEY_STRING = 256

/**
 * A short text identifying a scalar for matching (`n5`, `s"abc"`, `b5`, `d1700000000000`), or
 * undefined for values no later query would plausibly copy: booleans, null, long strings,
 * objects. The type tag keeps 5, 5n and "5" apart.
 */
export function matchKey(value: unknown): string | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? `n${value}` : undefined
    case 'string':
      return value.length > 0 && value.length <= MAX_KEY_STRING ? `s${value}` : undefined
    case 'bigint':
      return `b${value}`
    case 'object':
      if (value instanceof Date && !Number.isNaN(value.getTime())) return `d${value.getTime()}`
      return undefined
    default:
      return undefined
  }
}

/** Whether two argument values are the same: scalars by value, Dates by time, arrays item by item. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime()
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false
    return true
  }
  return false
}

/**
 * A canonical text for a constant (sorted keys, typed scalars); used to name constants and to
 * match values. Class instances print by their tag and text.
 */
export function stableText(value: unknown): string {
  return textOf(value, 'any', 0)
}

/**
 * The canonical text of a whole query's arguments: as `stableText`, but the members of `select`,
 * `include` and an aggregate's selectors keep their order, which shapes the result
 * (src/argument-order.ts). Used to dedupe candidates and to compare row shapes.
 */
export function argsText(args: unknown): string {
  return textOf(args, 'args', 0)
}

function textOf(value: unknown, area: OrderArea, depth: number): string {
  if (depth > 32) return '…'
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'bigint':
      return `${value}n`
    case 'boolean':
    case 'undefined':
      return String(value)
    case 'object':
      break
    default:
      return `<${typeof value}>`
  }
  if (value === null) return 'null'
  if (value instanceof Date) return `Date(${value.getTime()})`
  if (Array.isArray(value)) return `[${value.map((item) => textOf(item, area, depth + 1)).join(',')}]`
  if (!isPlainObject(value)) return `${Object.prototype.toString.call(value)}(${String(value)})`
  const keys = canonicalKeys(value, area).filter((key) => value[key] !== undefined)
  return `{${keys.map((key) => `${JSON.stringify(key)}:${textOf(value[key], innerArea(area, key), depth + 1)}`).join(',')}}`
}

/** A 64-bit FNV-1a hash of `text`, as 13 base-36 characters or fewer. Stable across processes. */
export function hashText(text: string): string {
  let h1 = 0x811c9dc5
  let h2 = 0x01000193 ^ text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 0x01000193)
    h2 = Math.imul(h2 ^ c, 0x5bd1e995)
  }
  return (h1 >>> 0).toString(36) + (h2 >>> 0).toString(36)
}
