/**
 * Templates: a query split into its shape and its slot values, and the bounded table of shapes seen.
 */

import { BoundedMap } from '../bounded-map.ts'
import { canonicalKeys, innerArea, type OrderArea } from '../argument-order.ts'
import { argsText, valueText } from '../canonical.ts'
import { isPlainObject, ROW_SHAPE_KEYS } from '../shared.ts'
import type { Query } from './types.ts'
import { hashText } from './values.ts'

/**
 * A query with its values replaced by slots: `Post.findMany{where:{authorId:?},take:?}`. Two
 * queries that differ only in their values share a template; what differs is the template's
 * slot values. Values under the arguments `where`, `cursor`, `having` and `data` (of the query,
 * or of a relation nested in its select or include) and the numbers of `take` and `skip` are
 * slots; everything else (select, include, orderBy, ...) is shape. Keys are taken in canonical
 * order: sorted, but the members of `select`, `include` and an aggregate's selectors in the
 * query's own order, which is the order of the result's fields (src/argument-order.ts). So
 * `include: { posts, comments }` and `include: { comments, posts }` are two templates, and the
 * skeleton rebuilds arguments whose result has the application's field order.
 */
export interface Template {
  /** Stable across processes: a hash of the shape. */
  readonly id: string
  readonly model: string
  readonly operation: string
  /** The readable shape, `?` marking each slot. */
  readonly shape: string
  /** The argument path of every slot, in slot order (`where.id`). */
  readonly paths: readonly string[]
  /** The arguments with every slot value replaced by a `Slot`. */
  readonly skeleton: unknown
  /**
   * The unique field of a `findUnique` whose `where` is that field alone, which a batched
   * `findMany` with `{ field: { in: [...] } }` can answer row by row; else undefined.
   */
  readonly fanOutField: string | undefined
  /**
   * The slot a read of one row of a list is keyed by: the `where` slot of `fanOutField`, or else
   * the first slot that is a field of `where` itself (`where.postId`); undefined if none.
   */
  readonly keySlot: number | undefined
}

/** A query as its template and the values of its slots. */
export interface TemplatedQuery {
  template: Template
  values: unknown[]
}

/** A placeholder for the value at a slot, in a template's skeleton. */
export class Slot {
  constructor(readonly index: number) {}
}

const SLOT_AREAS = new Set(['where', 'cursor', 'having', 'data'])
const SLOT_KEYS = new Set(['take', 'skip'])
/** Argument keys whose own keys are field names (whose objects, in turn, are nested arguments). */
const FIELD_AREAS = new Set(['select', 'include', 'omit', 'orderBy', '_count', '_sum', '_avg', '_min', '_max'])
/** Keys printed as they are in a shape; any other key is quoted, so no two shapes can collide. */
const PLAIN_KEY = /^[A-Za-z_$][\w$]*$/
/**
 * The text of each key as a shape prints it, followed by its colon, for the keys seen (field and
 * argument names: a schema's worth). Bounded: past `MAX_KEY_TEXTS` distinct keys, the others are
 * printed anew each time, as all were before.
 */
const KEY_TEXTS = new Map<string, string>()
const MAX_KEY_TEXTS = 4096

/** `name:` as a shape prints it (quoted unless a plain identifier). */
export function keyText(name: string): string {
  let text = KEY_TEXTS.get(name)
  if (text !== undefined) return text
  text = `${PLAIN_KEY.test(name) ? name : JSON.stringify(name)}:`
  if (KEY_TEXTS.size < MAX_KEY_TEXTS) KEY_TEXTS.set(name, text)
  return text
}

type Area = 'args' | 'fields' | 'slots'

/** A copy of a slot or shape value that shares nothing with the caller's arguments. */
function copyValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyValue)
  if (value instanceof Date) return new Date(value.getTime())
  if (value instanceof Uint8Array) return new Uint8Array(value)
  return value
}
/** Arguments deeper or wider than this have no template (and are not learned from). */
const MAX_DEPTH = 24
const MAX_SLOTS = 64
const FAN_OUT_OPERATIONS = new Set(['findUnique', 'findUniqueOrThrow'])

class TooComplex extends Error {}

/** A scalar, or an array of scalars: a slot's value as a whole (`id: { in: [1, 2, 3] }` has one slot). */
function isLeaf(value: unknown): boolean {
  if (Array.isArray(value)) return value.every((item) => !isPlainObject(item) && !Array.isArray(item))
  return !isPlainObject(value)
}

/**
 * Splits `query` into a template shape and slot values. Returns undefined for arguments too deep
 * or too wide to learn from (they are still served and cached as usual).
 */
export function templateOf(query: Query): { shape: string; paths: string[]; skeleton: unknown; values: unknown[] } | undefined {
  return split(query, true) as { shape: string; paths: string[]; skeleton: unknown; values: unknown[] } | undefined
}

/**
 * The shape and slot values of `query` alone, as `templateOf` gives them, without building the
 * skeleton and the slot paths: what a read of a shape already known needs (most reads).
 */
export function shapeOf(query: Query): { shape: string; values: unknown[] } | undefined {
  return split(query, false)
}

/** What one split collects while it walks the arguments. */
interface Split {
  /** Whether the skeleton and the slot paths are built too (a new shape), or only shape and values. */
  readonly full: boolean
  readonly paths: string[]
  readonly values: unknown[]
  /** The shape as one list of text parts: this runs on every read of a session. */
  readonly text: string[]
}

function split(query: Query, full: boolean): { shape: string; paths?: string[]; skeleton?: unknown; values: unknown[] } | undefined {
  const state: Split = { full, paths: [], values: [], text: [query.model, '.', query.operation] }
  try {
    const skeleton = walk(state, query.args ?? {}, '', '', 'args', 'args', 0)
    const shape = state.text.join('')
    return full ? { shape, paths: state.paths, skeleton, values: state.values } : { shape, values: state.values }
  } catch (error) {
    if (error instanceof TooComplex) return undefined
    throw error
  }
}

/**
 * One node of a split (a function of its own, not a closure per read). `area` says what the keys
 * of the object being walked are: arguments of a query (where a key `where` opens a slot area),
 * field names (select, include, omit, orderBy: a field may be called `data`), or the inside of a
 * slot area. `order` says which of those keys keep their order (see canonicalKeys).
 */
function walk(state: Split, value: unknown, path: string, key: string, area: Area, order: OrderArea, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new TooComplex()
  const { full, text } = state
  if (isLeaf(value)) {
    if (area === 'slots' || (area === 'args' && SLOT_KEYS.has(key) && typeof value === 'number')) {
      const values = state.values
      if (values.length >= MAX_SLOTS) throw new TooComplex()
      const slot = full ? new Slot(values.length) : undefined
      values.push(copyValue(value))
      if (full) state.paths.push(path)
      text.push('?')
      return slot
    }
    // A string prints as valueText prints it (JSON), without its buffers: `orderBy: 'desc'` on most reads.
    text.push(typeof value === 'boolean' ? (value ? 'true' : 'false') : typeof value === 'string' ? JSON.stringify(value) : valueText(value))
    return full ? copyValue(value) : undefined
  }
  if (Array.isArray(value)) {
    text.push('[')
    const node: unknown[] = []
    for (let i = 0; i < value.length; i++) {
      if (i > 0) text.push(',')
      node.push(walk(state, value[i], full ? `${path}.${i}` : '', key, area, order, depth + 1))
    }
    text.push(']')
    return node
  }
  const object = value as Record<string, unknown>
  // Without `full` no node is built: the walk, and so the shape and the values, are the same.
  const node: Record<string, unknown> | undefined = full ? {} : undefined
  text.push('{')
  let first = true
  for (const name of canonicalKeys(object, order)) {
    if (object[name] === undefined) continue
    if (!first) text.push(',')
    first = false
    text.push(keyText(name))
    const inner: Area = area === 'slots' ? 'slots' : area === 'fields' ? 'args' : SLOT_AREAS.has(name) ? 'slots' : FIELD_AREAS.has(name) ? 'fields' : 'args'
    const child = walk(state, object[name], !full ? '' : path === '' ? name : `${path}.${name}`, name, inner, innerArea(order, name), depth + 1)
    if (node !== undefined) node[name] = child
  }
  text.push('}')
  return node
}

/** The unique field a fan-out can batch on, if the template's `where` is one slot and nothing else. */
function fanOutFieldOf(operation: string, skeleton: unknown): string | undefined {
  if (!FAN_OUT_OPERATIONS.has(operation) || !isPlainObject(skeleton) || !isPlainObject(skeleton.where)) return undefined
  const keys = Object.keys(skeleton.where)
  if (keys.length !== 1 || !(skeleton.where[keys[0]] instanceof Slot)) return undefined
  return keys[0]
}

/** See `Template.keySlot`. */
function keySlotOf(paths: readonly string[], fanOutField: string | undefined): number | undefined {
  const slot = fanOutField === undefined ? paths.findIndex((path) => path.startsWith('where.') && path.indexOf('.', 6) < 0) : paths.indexOf(`where.${fanOutField}`)
  return slot < 0 ? undefined : slot
}

/**
 * The templates seen, bounded: the least recently seen is forgotten first. Ids are hashes of
 * the shape, so the same query has the same template id in every process.
 */
export class TemplateTable {
  private readonly byShape: BoundedMap<string, Template>
  private readonly byId = new Map<string, Template>()

  constructor(maxTemplates: number) {
    // The id of a template forgotten to make room goes with it.
    this.byShape = new BoundedMap(maxTemplates, (_, template) => this.byId.delete(template.id))
  }

  get size(): number {
    return this.byShape.size
  }

  /** The template and slot values of `query` (registering the template), or undefined. */
  resolve(query: Query): TemplatedQuery | undefined {
    // Most reads have a shape seen before: its template is found by the shape alone, and the
    // skeleton and paths are built only for a new one.
    const seen = shapeOf(query)
    if (seen === undefined) return undefined
    let template = this.byShape.get(seen.shape)
    if (template === undefined) {
      const parts = templateOf(query)!
      const fanOutField = fanOutFieldOf(query.operation, parts.skeleton)
      template = {
        id: hashText(parts.shape),
        model: query.model,
        operation: query.operation,
        shape: parts.shape,
        paths: parts.paths,
        skeleton: parts.skeleton,
        fanOutField,
        keySlot: keySlotOf(parts.paths, fanOutField),
      }
      this.byId.set(template.id, template)
    }
    this.byShape.remember(seen.shape, template)
    return { template, values: seen.values }
  }

  /** The template and slot values of `query` if its shape is known; registers nothing. */
  find(query: Query): TemplatedQuery | undefined {
    const parts = shapeOf(query)
    const template = parts === undefined ? undefined : this.byShape.get(parts.shape)
    return template === undefined ? undefined : { template, values: parts!.values }
  }

  get(id: string): Template | undefined {
    return this.byId.get(id)
  }

  /** Registers a template learned elsewhere (from `encodeSkeleton`), unless its shape is known. */
  adopt(shared: { model: string; operation: string; shape: string; paths: string[]; skeleton: unknown }): Template | undefined {
    const known = this.byShape.get(shared.shape)
    if (known !== undefined) return known
    const skeleton = decodeSkeleton(shared.skeleton)
    const fanOutField = fanOutFieldOf(shared.operation, skeleton)
    const template: Template = {
      id: hashText(shared.shape),
      model: shared.model,
      operation: shared.operation,
      shape: shared.shape,
      paths: [...shared.paths],
      skeleton,
      fanOutField,
      keySlot: keySlotOf(shared.paths, fanOutField),
    }
    this.byShape.set(template.shape, template)
    this.byId.set(template.id, template)
    return template
  }
}

/** The arguments of `template` with `values` in its slots (a fresh object; nothing is shared). */
export function instantiate(template: Template, values: readonly unknown[]): Record<string, unknown> {
  return fill(template.skeleton, values) as Record<string, unknown>
}

function fill(node: unknown, values: readonly unknown[]): unknown {
  if (node instanceof Slot) return copyValue(values[node.index])
  if (Array.isArray(node)) return node.map((item) => fill(item, values))
  if (isPlainObject(node)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(node)) out[key] = fill(node[key], values)
    return out
  }
  return copyValue(node)
}

/** Whether a skeleton part holds a slot anywhere. */
export function containsSlot(node: unknown): boolean {
  if (node instanceof Slot) return true
  if (Array.isArray(node)) return node.some(containsSlot)
  return isPlainObject(node) && Object.values(node).some(containsSlot)
}

/** A skeleton as plain data (each slot as `{ $slot: index }`), to share it with other processes. */
export function encodeSkeleton(node: unknown): unknown {
  if (node instanceof Slot) return { $slot: node.index }
  if (Array.isArray(node)) return node.map(encodeSkeleton)
  if (isPlainObject(node)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(node)) out[key] = encodeSkeleton(node[key])
    return out
  }
  return node
}

function decodeSkeleton(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(decodeSkeleton)
  if (isPlainObject(node)) {
    const keys = Object.keys(node)
    if (keys.length === 1 && keys[0] === '$slot' && Number.isSafeInteger(node.$slot)) return new Slot(node.$slot as number)
    const out: Record<string, unknown> = {}
    for (const key of keys) out[key] = decodeSkeleton(node[key])
    return out
  }
  return node
}

/**
 * Whether rows of `a` have the shape rows of `b` have: the same select, include and omit, with no
 * slots, and their members in the same order (the order of a row's fields).
 */
export function sameRowShape(a: Template, b: Template): boolean {
  const skeletonA = a.skeleton as Record<string, unknown>
  const skeletonB = b.skeleton as Record<string, unknown>
  return ROW_SHAPE_KEYS.every((key) => !containsSlot(skeletonA[key]) && argsText({ [key]: skeletonA[key] }) === argsText({ [key]: skeletonB[key] }))
}
