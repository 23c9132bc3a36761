/**
 * Which cached list holds the row of each unique key, so a `findUnique` can be answered from a
 * list read (in process memory, with L1 only).
 */

import { LRUCache } from 'lru-cache'
import { canonicalArgs } from '../canonical.ts'
import { isPlainObject, ROW_SHAPE_KEYS } from '../shared.ts'

/** Argument keys that do not change the shape of the rows a list returns. */
const LIST_KEYS = new Set(['where', 'orderBy', 'take', 'skip', 'cursor', 'distinct', 'relationLoadStrategy'])

function isKeyValue(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint'
}

/**
 * The canonical text of the row shape of `args`, or undefined if `args` has keys this does not
 * know. Canonical as arguments are, so the members of select and include keep their order: a row
 * of a list read with `select: { title, id }` has its fields in that order, and answers only a
 * single-row read that asks for them in that order.
 */
function rowShape(args: Record<string, unknown>, allowed: ReadonlySet<string>): string | undefined {
  for (const key of Object.keys(args)) {
    if (args[key] !== undefined && !allowed.has(key) && !(ROW_SHAPE_KEYS as readonly string[]).includes(key)) return undefined
  }
  return canonicalArgs({ select: args.select, include: args.include, omit: args.omit })
}

/** Where a row is: the key of the cached list that holds it, and its position there. */
export interface RowPlace {
  listKey: string
  position: number
  field: string
  value: unknown
}

/**
 * Remembers which cached list holds the row of each unique key, so that a `findUnique` asking
 * for that row in the same shape (same select, include and omit) can be answered from the list
 * while the list's entry is valid. Bounded by `maxEntries` rows (least recently registered
 * forgotten first); a place whose list has gone is simply a miss.
 */
export class RowLocator {
  private readonly places: LRUCache<string, { listKey: string; position: number }>
  private static readonly SINGLE_ROW_KEYS = new Set(['where'])

  constructor(
    maxEntries: number,
    private readonly uniqueFields: ReadonlyMap<string, ReadonlySet<string>>,
  ) {
    this.places = new LRUCache({ max: maxEntries })
  }

  /** Registers the rows of a `findMany` result cached under `listKey`. */
  addList(scope: string, model: string, args: unknown, listKey: string, rows: unknown): void {
    const fields = this.uniqueFields.get(model)
    if (fields === undefined || fields.size === 0 || !Array.isArray(rows)) return
    const shape = rowShape(isPlainObject(args) ? args : {}, LIST_KEYS)
    if (shape === undefined) return
    rows.forEach((row, position) => {
      if (!isPlainObject(row)) return
      for (const field of fields) {
        if (isKeyValue(row[field])) this.places.set(placeKey(scope, model, shape, field, row[field]), { listKey, position })
      }
    })
  }

  /** The place of the row a single-row read by one unique field asks for, if a list holds it. */
  find(scope: string, model: string, args: unknown): RowPlace | undefined {
    if (this.places.size === 0 || !isPlainObject(args) || !isPlainObject(args.where)) return undefined
    const keys = Object.keys(args.where)
    if (keys.length !== 1) return undefined
    const field = keys[0]
    const value = args.where[field]
    if (!isKeyValue(value) || !this.uniqueFields.get(model)?.has(field)) return undefined
    const shape = rowShape(args, RowLocator.SINGLE_ROW_KEYS)
    if (shape === undefined) return undefined
    const place = this.places.get(placeKey(scope, model, shape, field, value))
    return place === undefined ? undefined : { ...place, field, value }
  }

  get size(): number {
    return this.places.size
  }
}

function placeKey(scope: string, model: string, shape: string, field: string, value: unknown): string {
  return `${scope}\u0000${model}\u0000${shape}\u0000${field}\u0000${canonicalArgs(value)}`
}
