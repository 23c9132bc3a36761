/**
 * Facts about Prisma queries and small value helpers that the middleware, the strategies and the
 * cache all use. A leaf: it imports nothing, so any module may import it without a cycle.
 */

/** The read operations whose results can be served from the cache. */
export const READ_OPERATIONS = [
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'findMany',
  'count',
  'aggregate',
  'groupBy',
] as const

/** One of `READ_OPERATIONS`. */
export type ReadOperation = (typeof READ_OPERATIONS)[number]

const READS: ReadonlySet<string> = new Set(READ_OPERATIONS)

/** Whether `operation` is a read operation (one whose result can be served from the cache). */
export function isReadOperation(operation: unknown): operation is ReadOperation {
  return typeof operation === 'string' && READS.has(operation)
}

/** The argument keys that decide the shape of each row a read returns. */
export const ROW_SHAPE_KEYS = ['select', 'include', 'omit'] as const

/** An object literal (or one without a prototype): what Prisma takes as arguments, not a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * The strings of `set` in the order `[...set].sort()` gives (UTF-16 code units), sorted by
 * insertion as they are copied: the generation keys of a read are a few strings, sorted on every
 * read, and this allocates only the array where spreading and sorting them also allocated sort's
 * work space.
 */
export function sortedStrings(set: ReadonlySet<string>): string[] {
  // Made at its final length: an array grown by push reserves room for 17 strings at once.
  const out = new Array<string>(set.size)
  let length = 0
  for (const item of set) {
    let at = length++
    while (at > 0 && out[at - 1] > item) {
      out[at] = out[at - 1]
      at--
    }
    out[at] = item
  }
  return out
}
