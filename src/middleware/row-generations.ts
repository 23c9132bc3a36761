/**
 * Row generations (docs/invalidation.md): which generation keys a read depends on and which a
 * write moves on. A read of one row by a unique value depends on that row's key and its model's
 * `#rows` key (plus the models its relations reach); every other read depends on its models'
 * list keys. A write moves on the list key of every model it touches, the row keys of the rows
 * it is known to have changed, and, for the rest (a filter, raw SQL, referential actions, a
 * failed statement), the model's `#rows` key, which ends every row read of the model.
 */

import { modelOfKey, rowKey, rowsKey, wholeModelKeys } from '../cache/generations.ts'
import { isPlainObject, sortedStrings } from '../shared.ts'
import { readDependencies, relatedModelsOrNone, walkRelations, writeTargets, type OperationKind } from './classify.ts'
import type { SchemaInfo } from './schema.ts'

const SINGLE_ROW_READS = new Set(['findUnique', 'findUniqueOrThrow'])
const LIST_READS = new Set(['findMany', 'findFirst', 'findFirstOrThrow'])
/**
 * A list read of at most this many rows named by a unique field (`where: { id: { in } }`) depends
 * on each of them; a longer one on its model's list key (every hit checks each key it depends on).
 */
export const MAX_ROWS_NAMED = 32

/** The canonical text of a unique value of kind `kind`, or undefined when it is not one. */
function valueText(kind: 'int' | 'string', value: unknown): string | undefined {
  if (kind === 'int') {
    if (typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value))) return String(value)
    return undefined
  }
  return typeof value === 'string' ? JSON.stringify(value) : undefined
}

/**
 * The generation keys a read depends on, sorted. With `rows` on, a `findUnique` that names its
 * row by the plain value of a single-field unique key depends on that row and on its model's
 * `#rows` key instead of the model's list key; so does a list read whose only filter is such a
 * field `in` a list of plain values (at most MAX_ROWS_NAMED), on each row it names: no write to
 * another row can change what it returns.
 */
export function readKeys(schema: SchemaInfo, rows: boolean, model: string, operation: string, args: unknown): string[] {
  if (!rows || !isPlainObject(args) || !isPlainObject(args.where)) return readDependencies(schema, model, args)
  const named = SINGLE_ROW_READS.has(operation) ? rowOfWhere(schema, model, args.where) : LIST_READS.has(operation) && args.cursor === undefined ? rowsOfInList(schema, model, args.where) : undefined
  if (named === undefined) return readDependencies(schema, model, args)
  const related = relatedModelsOrNone(schema, model, args)
  // The common row read, `where: { id }` reaching no other model: its two keys, in order.
  if (related === undefined && typeof named === 'string') return sortedPair(rowsKey(model), named)
  const keys = related ?? new Set<string>()
  keys.add(rowsKey(model))
  if (typeof named === 'string') keys.add(named)
  else for (const row of named) keys.add(row)
  return sortedStrings(keys)
}

/** Two different strings, in the order `[a, b].sort()` gives. */
function sortedPair(a: string, b: string): string[] {
  return a < b ? [a, b] : [b, a]
}

/** The row keys of `where: { [rowField]: { in: [values] } }`, nothing else in it; undefined otherwise. */
function rowsOfInList(schema: SchemaInfo, model: string, where: Record<string, unknown>): string[] | undefined {
  const fields = Object.keys(where)
  if (fields.length !== 1) return undefined
  const field = fields[0]
  const kind = schema.rowFields.get(model)?.get(field)
  const filter = where[field]
  if (kind === undefined || !isPlainObject(filter) || Object.keys(filter).length !== 1 || !Array.isArray(filter.in) || filter.in.length > MAX_ROWS_NAMED) return undefined
  const keys: string[] = []
  for (const value of filter.in) {
    const text = valueText(kind, value)
    if (text === undefined) return undefined
    keys.push(rowKey(model, field, text))
  }
  return keys
}

/** The row key of the first row field `where` names by a plain value. */
function rowOfWhere(schema: SchemaInfo, model: string, where: Record<string, unknown>): string | undefined {
  const fields = schema.rowFields.get(model)
  if (fields === undefined) return undefined
  // By key, then get: no [field, kind] pair made per field.
  for (const field of fields.keys()) {
    const text = valueText(fields.get(field)!, where[field])
    if (text !== undefined) return rowKey(model, field, text)
  }
  return undefined
}

/**
 * The keys of one row, one per row field, from what is known of it (`known`: a where, a result,
 * or both); undefined when one of them is not known: a read by that field could not be told.
 */
function keysOfRow(schema: SchemaInfo, model: string, ...known: unknown[]): string[] | undefined {
  const fields = schema.rowFields.get(model)
  if (fields === undefined || fields.size === 0) return undefined
  const keys: string[] = []
  for (const [field, kind] of fields) {
    let text: string | undefined
    for (const record of known) {
      if (isPlainObject(record)) text ??= valueText(kind, record[field])
    }
    if (text === undefined) return undefined
    keys.push(rowKey(model, field, text))
  }
  return keys
}

/** Whether `data` (or any of a list of them) sets one of the row fields of `model`. */
function setsRowField(schema: SchemaInfo, model: string, ...datas: unknown[]): boolean {
  const fields = schema.rowFields.get(model)
  if (fields === undefined) return false
  for (const data of datas) {
    for (const item of Array.isArray(data) ? data : [data]) {
      if (isPlainObject(item) && Object.keys(item).some((key) => fields.has(key))) return true
    }
  }
  return false
}

/** What a write is known to have changed: per model, its rows' keys, or `whole` when not known. */
class Changes {
  readonly byModel = new Map<string, Set<string> | 'whole'>()

  whole(model: string): void {
    this.byModel.set(model, 'whole')
  }

  rows(model: string, keys: readonly string[] | undefined): void {
    if (keys === undefined) return this.whole(model)
    const known = this.byModel.get(model)
    if (known === 'whole') return
    if (known === undefined) this.byModel.set(model, new Set(keys))
    else for (const key of keys) known.add(key)
  }

  /** Every model reached anywhere inside `value` (a nested write not understood) is whole. */
  wholeInside(schema: SchemaInfo, model: string, value: unknown): void {
    walkRelations(schema, model, value, (target) => {
      this.whole(target)
      return true
    })
  }
}

/**
 * The rows nested writes in `data` (of a row of `model`) change: those named by a unique value
 * in a nested `update`, `delete`, `connect` or `disconnect`, when the nested data sets no row
 * field; every other nested write (create, upsert, set, the `...Many` forms, a to-one write
 * without a where) changes its model whole.
 */
function nestedChanges(schema: SchemaInfo, model: string, data: unknown, changes: Changes, depth = 0): void {
  if (!isPlainObject(data) || depth > 32) return
  const relations = schema.relations.get(model)
  for (const field of Object.keys(data)) {
    const target = relations?.get(field)
    if (target === undefined) continue
    const writes = data[field]
    if (!isPlainObject(writes)) {
      changes.whole(target)
      continue
    }
    for (const op of Object.keys(writes)) {
      const value = writes[op]
      const items = Array.isArray(value) ? value : [value]
      for (const item of items) {
        if ((op === 'delete' || op === 'connect' || op === 'disconnect') && isPlainObject(item)) {
          changes.rows(target, keysOfRow(schema, target, item))
        } else if (op === 'update' && isPlainObject(item) && isPlainObject(item.where) && isPlainObject(item.data)) {
          changes.rows(target, setsRowField(schema, target, item.data) ? undefined : keysOfRow(schema, target, item.where))
          nestedChanges(schema, target, item.data, changes, depth + 1)
        } else {
          changes.whole(target)
          changes.wholeInside(schema, target, item)
        }
      }
    }
  }
}

/**
 * The generation keys a write moves on. `outcome` is the write's result when it succeeded;
 * undefined when it failed (a failed statement may still have changed rows: every model it
 * touches is whole). With `rows` off, every model touched is whole, as for raw queries.
 */
export function writeKeys(
  schema: SchemaInfo,
  rows: boolean,
  model: string | undefined,
  operation: string,
  kind: OperationKind,
  args: unknown,
  outcome: { result: unknown } | undefined,
): Set<string> {
  const keys = new Set<string>()
  if (kind !== 'write' || model === undefined) {
    for (const each of schema.models) for (const key of wholeModelKeys(each)) keys.add(key)
    return keys
  }
  const cascaded = new Set<string>()
  const touched = writeTargets(schema, model, operation, args, cascaded)
  const changes = new Changes()
  if (rows && outcome !== undefined) rootChanges(schema, model, operation, args, outcome.result, changes)
  for (const each of touched) {
    const known = cascaded.has(each) ? 'whole' : changes.byModel.get(each)
    keys.add(each)
    if (known === undefined || known === 'whole') keys.add(rowsKey(each))
    else for (const key of known) keys.add(key)
  }
  return keys
}

/** The rows of `model` a write of `operation` changed, from its arguments and its result. */
function rootChanges(schema: SchemaInfo, model: string, operation: string, args: unknown, result: unknown, changes: Changes): void {
  const a = isPlainObject(args) ? args : {}
  switch (operation) {
    case 'create':
      // A new row: every unique value it has is in the result (unless a select left one out).
      changes.rows(model, keysOfRow(schema, model, result))
      nestedChanges(schema, model, a.data, changes)
      return
    case 'createManyAndReturn':
      changes.rows(model, rowsOfResult(schema, model, result))
      return
    case 'update':
    case 'delete':
      // Where and result name the same row; a new value of a row field leaves its old one unknown.
      changes.rows(model, setsRowField(schema, model, a.data) ? undefined : keysOfRow(schema, model, result, a.where))
      nestedChanges(schema, model, a.data, changes)
      return
    case 'upsert':
      // Created: the result has every value (the where may name another row). Updated: as an
      // update with `update` as its data.
      changes.rows(model, setsRowField(schema, model, a.update) ? undefined : keysOfRow(schema, model, result))
      nestedChanges(schema, model, a.create, changes)
      nestedChanges(schema, model, a.update, changes)
      return
    case 'updateManyAndReturn':
      changes.rows(model, setsRowField(schema, model, a.data) ? undefined : rowsOfResult(schema, model, result))
      return
    default:
      changes.whole(model)
  }
}

function rowsOfResult(schema: SchemaInfo, model: string, result: unknown): string[] | undefined {
  if (!Array.isArray(result)) return undefined
  const keys: string[] = []
  for (const row of result) {
    const each = keysOfRow(schema, model, row)
    if (each === undefined) return undefined
    keys.push(...each)
  }
  return keys
}

/** The models of a set of generation keys (for counting invalidations). */
export function modelsOfKeys(keys: Iterable<string>): Set<string> {
  const models = new Set<string>()
  for (const key of keys) models.add(modelOfKey(key))
  return models
}
