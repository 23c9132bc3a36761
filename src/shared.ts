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
