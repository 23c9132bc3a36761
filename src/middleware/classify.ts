/**
 * Read, write or raw: what kind of operation a query is, which models a read depends on, and
 * which models a write changes (nested writes and cascades included).
 */

import { isReadOperation, sortedStrings } from '../shared.ts'
import type { SchemaInfo } from './schema.ts'

export type OperationKind = 'read' | 'write' | 'raw'

const WRITES = new Set([
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
])

/**
 * Reads are cacheable; writes invalidate the models they touch; anything else (raw SQL, and any
 * operation a later Prisma version adds) is treated as a write to every model.
 */
export function classify(model: string | undefined, operation: string): OperationKind {
  if (model === undefined) return 'raw'
  if (isReadOperation(operation)) return 'read'
  return WRITES.has(operation) ? 'write' : 'raw'
}

/**
 * Every model a read query reads: its own, every relation reached from `include`, `select`,
 * relation filters in `where` and relation fields in `orderBy`, and every model a `_count`
 * counts (`_count: true` in a select or include counts each list relation of the model in
 * context; `_count: { select: { posts: { where } } }` and `orderBy: { posts: { _count } }` name
 * theirs). The walk follows any key that names a relation field of the model in context, so it
 * is conservative: a key that merely looks like a relation (inside a Json filter, say) adds a
 * model, never drops one.
 */
export function readDependencies(schema: SchemaInfo, model: string, args: unknown): string[] {
  return sortedStrings(relatedModels(schema, model, args).add(model))
}

/**
 * The models a read reaches from `model` through relations and counts (see readDependencies):
 * `model` itself only when a relation or a count leads back to it.
 */
export function relatedModels(schema: SchemaInfo, model: string, args: unknown): Set<string> {
  return relatedModelsOrNone(schema, model, args) ?? new Set()
}

/** relatedModels(), or undefined when the read reaches no model (no set is made for none). */
export function relatedModelsOrNone(schema: SchemaInfo, model: string, args: unknown): Set<string> | undefined {
  // The walk's callbacks are made once, not per read: they add to the set of the walk under way,
  // saved and restored around it (a getter in the arguments could start a walk of its own).
  const outerSchema = collectingSchema
  const outerModels = collectingModels
  collectingSchema = schema
  collectingModels = undefined
  try {
    walkRelations(schema, model, args, addRelated, addCounted)
    return collectingModels
  } finally {
    collectingSchema = outerSchema
    collectingModels = outerModels
  }
}

/** The walk of relatedModels under way: its schema and the set it fills. */
let collectingSchema: SchemaInfo | undefined
let collectingModels: Set<string> | undefined

function addRelated(target: string): boolean {
  ;(collectingModels ??= new Set()).add(target)
  return true
}

function addCounted(counting: string): void {
  const schema = collectingSchema!
  for (const target of schema.counted.get(counting) ?? schema.relations.get(counting)?.values() ?? []) (collectingModels ??= new Set()).add(target)
}

/** Keys whose object lists the fields of the rows a read returns, where `_count: true` may stand. */
const SELECTIONS = new Set(['select', 'include'])

/**
 * Walks plain objects and arrays in `value`, keeping track of the model in context: a key that
 * names a relation field of that model calls `onRelation(target, child)` and, if it returns true,
 * the walk goes on inside `child` with `target` as the model in context. `_count: true` inside a
 * select or include calls `onCountAll(model)`.
 */
export function walkRelations(
  schema: SchemaInfo,
  model: string,
  value: unknown,
  onRelation: (target: string, child: unknown) => boolean,
  onCountAll?: (model: string) => void,
  depth = 0,
  selection = false,
): void {
  if (value === null || typeof value !== 'object' || depth > 64) return
  if (Array.isArray(value)) {
    for (const item of value) walkRelations(schema, model, item, onRelation, onCountAll, depth + 1)
    return
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return
  const relations = schema.relations.get(model)
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key]
    const target = relations?.get(key)
    if (target === undefined) {
      if (selection && key === '_count' && child === true) onCountAll?.(model)
      walkRelations(schema, model, child, onRelation, onCountAll, depth + 1, SELECTIONS.has(key))
    } else if (onRelation(target, child)) walkRelations(schema, target, child, onRelation, onCountAll, depth + 1)
  }
}

const NESTED_REWRITES = new Set(['delete', 'deleteMany', 'update', 'updateMany', 'upsert'])

/**
 * Every model a write may change: its own; every model reached through relation fields in its
 * data (nested create, connect, update, upsert, delete, set, disconnect, ...); and, for deletes
 * and updates of referenced fields, the models whose rows referential actions (cascade, set null)
 * may change, transitively. `cascaded`, when given, receives every model referential actions
 * may change (the written model too, when it references itself).
 */
export function writeTargets(schema: SchemaInfo, model: string, operation: string, args: unknown, cascaded?: Set<string>): Set<string> {
  const models = new Set<string>([model])
  const a = (args ?? {}) as Record<string, unknown>
  if (operation === 'delete' || operation === 'deleteMany') addCascade(schema, model, undefined, models, cascaded)
  if (operation.startsWith('update') || operation === 'upsert') {
    addCascade(schema, model, changedFields(a.data, a.update, a.create), models, cascaded)
  }
  const onNested = (target: string, child: unknown) => {
    models.add(target)
    if (child !== null && typeof child === 'object' && Object.keys(child).some((op) => NESTED_REWRITES.has(op))) {
      addCascade(schema, target, undefined, models, cascaded)
    }
    return true
  }
  for (const data of [a.data, a.create, a.update]) walkRelations(schema, model, data, onNested)
  return models
}

function changedFields(...datas: unknown[]): Set<string> {
  const fields = new Set<string>()
  for (const data of datas) {
    for (const item of Array.isArray(data) ? data : [data]) {
      if (item !== null && typeof item === 'object') for (const key in item) fields.add(key)
    }
  }
  return fields
}

/**
 * Adds the models whose rows change when rows of `model` are deleted (`changed` undefined) or
 * when the listed fields of `model` are updated.
 */
function addCascade(schema: SchemaInfo, model: string, changed: Set<string> | undefined, out: Set<string>, cascaded?: Set<string>): void {
  for (const { model: holder, fields } of schema.referencedBy.get(model) ?? []) {
    const affected = changed === undefined || fields === undefined || fields.some((field) => changed.has(field))
    if (!affected) continue
    cascaded?.add(holder)
    if (out.has(holder)) continue
    out.add(holder)
    // Rows of `holder` are deleted or re-keyed in turn: treat them like a delete, conservatively.
    addCascade(schema, holder, undefined, out, cascaded)
  }
}
