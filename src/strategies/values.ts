/** Value helpers of the strategies: matching a value a later read may copy, and stable hashes. */

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
