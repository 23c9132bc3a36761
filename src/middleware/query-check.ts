/**
 * Refuses, before it is queued, a speculative read Prisma would reject (a null or missing
 * unique key, an empty `in` list), or the database would (an `Int` out of 32-bit range).
 */

import { isPlainObject } from '../shared.ts'
import type { FieldInfo, SchemaInfo } from './schema.ts'

/**
 * Whether a speculative read could be valid, decided from the schema before it is queued: a
 * learned or ruled read whose argument came out missing or null (`where: { id: undefined }`,
 * `{ id: null }`, `in: [1, null]`) would only fail as a validation error. Structural and cheap,
 * one walk over the arguments; it refuses only what Prisma 7 refuses, checked against the real
 * client (test/middleware/query-check.test.ts), plus two forms Prisma accepts: an empty `in` list,
 * the mark of a list that came out empty, which can only ever match nothing; and an `Int` value
 * outside 32 bits (a learned step extrapolated too far), which PostgreSQL and MySQL refuse. That
 * one matters beyond the speculative read: Prisma sends findUnique calls made in the same tick as
 * one query, so the application's read sent with it would fail with it.
 *
 * Returns why the read cannot be valid, or undefined when it may be.
 */
export function whyInvalid(schema: SchemaInfo, model: string, operation: string, args: unknown): string | undefined {
  if (args !== undefined && !isPlainObject(args)) return 'the arguments are not an object'
  const a = args ?? {}
  if (operation === 'findUnique' || operation === 'findUniqueOrThrow') {
    const problem = uniqueSelector(schema, model, a.where, 'where', 0)
    if (problem !== undefined) return problem
  }
  return queryArgs(schema, model, a, RECORD_READS.has(operation), 0)
}

const RECORD_READS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany'])
const LOGICAL = new Set(['AND', 'OR', 'NOT'])
const TO_MANY = ['some', 'every', 'none']
const TO_ONE = ['is', 'isNot']
/** Filter operators whose operand is one value of the field's type. */
const COMPARISONS = ['equals', 'not', 'lt', 'lte', 'gt', 'gte']
const MAX_DEPTH = 32

/** A value Prisma takes for one field: not missing, null, NaN, a list or a filter object. */
function isValue(value: unknown): boolean {
  if (value === undefined || value === null || Array.isArray(value) || isPlainObject(value)) return false
  if (typeof value === 'number') return !Number.isNaN(value)
  return typeof value !== 'function' && typeof value !== 'symbol'
}

/** Arguments of a read, or of a relation read nested in a select or include (`records`: it returns rows). */
function queryArgs(schema: SchemaInfo, model: string, args: Record<string, unknown>, records: boolean, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return undefined
  for (const key of ['take', 'skip']) {
    const value = args[key]
    if (value === null || (typeof value === 'number' && Number.isNaN(value))) return `${model} ${key} is ${String(value)}`
    if (key === 'skip' && typeof value === 'number' && value < 0) return `${model} skip is negative: ${value}`
  }
  if (args.cursor !== undefined) {
    const problem = uniqueSelector(schema, model, args.cursor, 'cursor', depth)
    if (problem !== undefined) return problem
  }
  if (args.where !== undefined) {
    const problem = where(schema, model, args.where, depth + 1)
    if (problem !== undefined) return problem
  }
  if (Array.isArray(args.orderBy) && args.orderBy.includes(undefined)) return `${model} orderBy holds undefined`
  if (!records) return undefined
  for (const key of ['select', 'include']) {
    const problem = selection(schema, model, args[key], depth + 1)
    if (problem !== undefined) return problem
  }
  return undefined
}

/** A `findUnique` where or a cursor: at least one unique selector, each one given complete. */
function uniqueSelector(schema: SchemaInfo, model: string, value: unknown, what: string, depth: number): string | undefined {
  if (!isPlainObject(value)) return `${model} ${what} is ${value === undefined ? 'missing' : 'not an object'}`
  const selectors = schema.uniqueSelectors.get(model)
  if (selectors !== undefined) {
    let given = 0
    for (const { name, fields } of selectors) {
      const selected = value[name]
      if (selected === undefined) continue
      const compound = fields.length > 1 || fields[0] !== name
      if (!compound) {
        // A nullable unique field set to null names no row; Prisma's answer to it is not ours to guess.
        if (selected === null && schema.fields.get(model)?.get(name)?.optional !== false) continue
        if (!isValue(selected)) return `${model} ${what}.${name} is not a value: ${describe(selected)}`
        if (outOfRange(schema.fields.get(model)?.get(name), selected)) return `${model} ${what}.${name} is out of range: ${describe(selected)}`
      } else {
        if (!isPlainObject(selected)) return `${model} ${what}.${name} is not an object`
        for (const field of fields) {
          if (!isValue(selected[field])) return `${model} ${what}.${name}.${field} is not a value: ${describe(selected[field])}`
          if (outOfRange(schema.fields.get(model)?.get(field), selected[field])) return `${model} ${what}.${name}.${field} is out of range: ${describe(selected[field])}`
        }
      }
      given++
    }
    if (given === 0) return `${model} ${what} names no unique field (${selectors.map((s) => s.name).join(', ')})`
  }
  return where(schema, model, value, depth + 1)
}

/** A where filter of `model`: relation filters, logical operators and scalar filters. */
function where(schema: SchemaInfo, model: string, value: unknown, depth: number): string | undefined {
  if (depth > MAX_DEPTH || !isPlainObject(value)) return undefined
  const fields = schema.fields.get(model)
  const relations = schema.relations.get(model)
  for (const key of Object.keys(value)) {
    const child = value[key]
    if (child === undefined) continue
    let problem: string | undefined
    if (LOGICAL.has(key)) {
      const items = Array.isArray(child) ? child : [child]
      if (items.includes(undefined)) return `${model} ${key} holds undefined`
      for (const item of items) if ((problem = where(schema, model, item, depth + 1)) !== undefined) return problem
      continue
    }
    const field = fields?.get(key)
    if (field === undefined) continue
    const target = relations?.get(key)
    if (target !== undefined) problem = relationFilter(schema, model, key, field, target, child, depth)
    else if (field.kind === 'scalar' || field.kind === 'enum') problem = scalarFilter(model, key, field, child, 0)
    if (problem !== undefined) return problem
  }
  return undefined
}

function relationFilter(schema: SchemaInfo, model: string, key: string, field: FieldInfo, target: string, child: unknown, depth: number): string | undefined {
  if (child === null) return field.list === true || field.optional === false ? `${model}.${key} is null, and the relation is required` : undefined
  if (!isPlainObject(child)) return undefined
  for (const op of [...TO_MANY, ...TO_ONE]) {
    const operand = child[op]
    if (operand === null) {
      // `some`/`every`/`none` take a filter, never null; `is`/`isNot` take null on an optional relation.
      if (TO_MANY.includes(op) ? field.list !== false : field.optional === false) return `${model}.${key}.${op} is null`
      continue
    }
    const problem = where(schema, target, operand, depth + 1)
    if (problem !== undefined) return problem
  }
  // A to-one relation may be filtered directly (`author: { name: 'x' }`).
  return field.list === true ? undefined : where(schema, target, child, depth + 1)
}

function scalarFilter(model: string, key: string, field: FieldInfo, value: unknown, depth: number): string | undefined {
  // Json filters (`equals: null` means JSON null there) and scalar lists follow other rules.
  if (field.type === 'Json') return value === null ? `${model}.${key} is null (Json needs Prisma.JsonNull or DbNull)` : undefined
  if (field.list === true) return undefined
  if (value === null) return field.optional === false ? `${model}.${key} is null, and the field is required` : undefined
  if (typeof value === 'number' && Number.isNaN(value)) return `${model}.${key} is NaN`
  if (outOfRange(field, value)) return `${model}.${key} is out of range: ${describe(value)}`
  if (!isPlainObject(value) || depth > 4) return undefined
  for (const op of ['in', 'notIn']) {
    const list = value[op]
    if (list === undefined) continue
    if (!Array.isArray(list)) return `${model}.${key}.${op} is not a list: ${describe(list)}`
    if (op === 'in' && list.length === 0) return `${model}.${key}.in is empty`
    const bad = list.findIndex((item) => !isValue(item))
    if (bad >= 0) return `${model}.${key}.${op} holds ${describe(list[bad])}`
    const wide = list.find((item) => outOfRange(field, item))
    if (wide !== undefined) return `${model}.${key}.${op} holds ${describe(wide)}, out of range`
  }
  for (const op of COMPARISONS) {
    const operand = value[op]
    if (operand === null && field.optional === false) return `${model}.${key}.${op} is null, and the field is required`
    if (typeof operand === 'number' && Number.isNaN(operand)) return `${model}.${key}.${op} is NaN`
    if (outOfRange(field, operand)) return `${model}.${key}.${op} is out of range: ${describe(operand)}`
    if (op === 'not' && isPlainObject(operand)) {
      const problem = scalarFilter(model, key, field, operand, depth + 1)
      if (problem !== undefined) return problem
    }
  }
  return undefined
}

/** A select or include of `model`: relation reads nested in it, and the where of each `_count`. */
function selection(schema: SchemaInfo, model: string, value: unknown, depth: number): string | undefined {
  if (depth > MAX_DEPTH || !isPlainObject(value)) return undefined
  const relations = schema.relations.get(model)
  for (const key of Object.keys(value)) {
    const child = value[key]
    if (!isPlainObject(child)) continue
    const target = relations?.get(key)
    let problem: string | undefined
    if (target !== undefined) problem = queryArgs(schema, target, child, true, depth + 1)
    else if (key === '_count' && isPlainObject(child.select)) {
      for (const [counted, args] of Object.entries(child.select)) {
        const countedModel = relations?.get(counted)
        if (countedModel === undefined || !isPlainObject(args)) continue
        if ((problem = where(schema, countedModel, args.where, depth + 1)) !== undefined) return problem
      }
    }
    if (problem !== undefined) return problem
  }
  return undefined
}

const INT_MIN = -(2 ** 31)
const INT_MAX = 2 ** 31 - 1

/** A number an `Int` field cannot hold on every provider: outside 32 bits signed. */
function outOfRange(field: FieldInfo | undefined, value: unknown): boolean {
  return field?.type === 'Int' && typeof value === 'number' && (value < INT_MIN || value > INT_MAX)
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined'
  if (isPlainObject(value)) return '{...}'
  if (Array.isArray(value)) return '[...]'
  return typeof value === 'bigint' ? `${value}n` : String(value)
}
