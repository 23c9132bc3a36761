// Key order in query arguments and results, for tests of the rule in src/argument-order.ts.
// The rule is written here again, on its own, as Prisma 7 was measured to follow it: the members
// of `select` and `include` (at any depth) and of an aggregate's selectors keep their order, and
// the selectors keep their order among the arguments; every other order is free.

const SELECTORS = new Set(['_count', '_sum', '_avg', '_min', '_max'])
const ORDERED = new Set(['select', 'include', ...SELECTORS])

function plain(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** A permutation of `keys` that depends only on `seed` and the keys' positions. */
function permute<T>(keys: readonly T[], seed: number): T[] {
  return keys
    .map((key, i) => [((i + 1) * 7919 * (seed + 3)) % 104729, key] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, key]) => key)
}

/** Rebuilds an object with its keys inserted in another order, at every depth. */
export function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((item, i) => shuffleKeys(item, seed + i))
  if (!plain(value)) return value
  const out: Record<string, unknown> = {}
  for (const key of permute(Object.keys(value), seed)) out[key] = shuffleKeys(value[key], seed + 1)
  return out
}

type Area = 'args' | 'fields' | 'free'

/**
 * Rebuilds query arguments with every key whose order does not shape the result inserted in
 * another order: the same query to Prisma, with the same result key order.
 */
export function shuffleFreeKeys(args: unknown, seed: number): unknown {
  const walk = (value: unknown, area: Area, seed: number): unknown => {
    if (Array.isArray(value)) return value.map((item, i) => walk(item, area, seed + i))
    if (!plain(value)) return value
    const keys = Object.keys(value)
    let order: string[]
    if (area === 'fields') order = keys
    else if (area === 'free') order = permute(keys, seed)
    else {
      // The selectors stay in their order, each where a shuffled key lands.
      const selectors = keys.filter((key) => SELECTORS.has(key))
      const shuffled = permute(keys, seed)
      let next = 0
      order = shuffled.map((key) => (SELECTORS.has(key) ? selectors[next++] : key))
    }
    const out: Record<string, unknown> = {}
    for (const key of order) {
      const inner: Area = area === 'args' ? (ORDERED.has(key) ? 'fields' : 'free') : area === 'fields' ? 'args' : 'free'
      out[key] = walk(value[key], inner, seed + 1)
    }
    return out
  }
  return walk(args, 'args', seed)
}

/**
 * The key order of a result, at every depth, as plain data a test can compare: an object as its
 * list of `[key, order of its value]`, an array as the list of its items' orders. Values that are
 * not plain objects or arrays (scalars, Date, Decimal, bytes) are `null`. `toStrictEqual` ignores
 * key order; this does not.
 */
export function keyOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(keyOrder)
  if (!plain(value)) return null
  return Object.keys(value).map((key) => [key, keyOrder(value[key])])
}
