/**
 * Recognises fluent relation reads, which the cache leaves alone.
 */

/**
 * Whether a query is a fluent relation read (`prisma.user.findUnique(...).posts()`), from the
 * private `__internalParams` Prisma hands to query extensions. Prisma sends a fluent read as the
 * parent read with the relation selected (`findUnique({ where, select: { posts: ... } })`) and
 * unpacks the relation (its `dataPath`) inside `query()`: the extension sees the same arguments
 * as the plain read but gets a differently shaped result. Such a read is therefore neither served
 * from nor stored to the cache (its key would be the plain read's). Kept in this one function,
 * with a test, so that a Prisma upgrade that moves the field fails loudly.
 */
export function isFluentRead(internalParams: unknown): boolean {
  const dataPath = (internalParams as { dataPath?: unknown } | undefined)?.dataPath
  return Array.isArray(dataPath) && dataPath.length > 0
}
