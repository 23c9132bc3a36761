/**
 * Which member orders of a query's arguments shape its result, the one rule that canonical keys
 * (src/cache/key.ts), templates (src/strategies/template.ts) and the deduplication of candidates
 * (src/strategies/values.ts) share. Keys keep those orders, so two reads that differ only there
 * never share an entry, and everything that builds arguments keeps the application's order, so
 * its predictions still hit.
 *
 * Prisma 7.10 as measured on SQLite and PostgreSQL (relationLoadStrategy 'join' and 'query'
 * give the same order), for findUnique, findFirst, findMany and fluent reads alike:
 * - `select`: the result's keys are the select's members in the select's order (scalars,
 *   relations and `_count` mixed); members set to false are absent. At every depth.
 * - `include`: the model's scalars in schema order, then the included relations and `_count` in
 *   the include's order. At every depth.
 * - `_count: true` lists relations in schema order; `_count: { select }` in the select's order.
 * - `omit`: schema order without the omitted fields; the omit's own order does not matter, nor
 *   where omit and include stand among the arguments.
 * - `aggregate` and `groupBy`: the selectors (`_count`, `_sum`, `_avg`, `_min`, `_max`) in the
 *   order they stand among the arguments, each with its fields in its own order; groupBy's `by`
 *   fields come last, in the order of `by` (an array: kept as it is), wherever `by` stands.
 *   `count({ select })` follows the select.
 * - `where`, `orderBy`, `cursor`, `having`, `distinct`: their members' order never shows in the
 *   result (`where: { a, b }` is `where: { b, a }`; an orderBy object with two fields is refused).
 *   Json values come back in the database's order (jsonb reorders them), whatever the query.
 */

/**
 * What the keys of an object in query arguments are:
 * `args`: argument names (`where`, `select`, ...), sorted but for the selectors, whose order is kept;
 * `fields`: field names whose order shapes the result (inside select, include, a selector), kept;
 * `any`: anything else (where, orderBy, omit, ...), sorted all the way down.
 */
export type OrderArea = 'args' | 'fields' | 'any'

/** Argument keys whose object members are field names in result order. */
const ORDERED = new Set(['select', 'include', '_count', '_sum', '_avg', '_min', '_max'])
/** Argument keys whose place among the arguments shapes an aggregate's or a groupBy's result. */
const SELECTORS = new Set(['_count', '_sum', '_avg', '_min', '_max'])

/** The area of the value at `key` of an object in `area`. */
export function innerArea(area: OrderArea, key: string): OrderArea {
  if (area === 'args') return ORDERED.has(key) ? 'fields' : 'any'
  // A field's value is `true` or the arguments of a relation (`{ select, where, take }`).
  if (area === 'fields') return 'args'
  return 'any'
}

/**
 * The keys of `object` (in `area`) in canonical order: as given in a `fields` area; sorted
 * elsewhere, except that in an `args` area the selectors follow the sorted rest in their own
 * order. Two objects with the same members get the same order exactly when their result keys
 * come in the same order.
 */
export function canonicalKeys(object: object, area: OrderArea): string[] {
  const keys = Object.keys(object)
  if (area === 'fields') return keys
  if (area === 'any' || keys.length < 2) return keys.sort()
  let selectors: string[] | undefined
  let rest: string[] | undefined
  for (const key of keys) {
    if (SELECTORS.has(key)) (selectors ??= []).push(key)
    else (rest ??= []).push(key)
  }
  if (selectors === undefined) return keys.sort()
  return rest === undefined ? selectors : rest.sort().concat(selectors)
}
