/**
 * Combining: a single-row read about to go to the database carries, as added relations, the read
 * predicted to follow it whose arguments are taken from the row, so both come back in one
 * statement (`relationLoadStrategy: 'join'`). The follower is a list read by a foreign key of
 * another model (a list relation), a single-row read by the row's foreign key (a to-one
 * relation), or a list read of the rows the row's foreign keys name (`id: { in: [row.aId,
 * row.bId] }`, one to-one relation each). The application gets the row exactly as it asked for
 * it (the relations removed); the follower's result is kept as its own read's, a speculative
 * one, under the generations read before the query was sent.
 */

import type { Speculation } from '../cache/store.ts'
import { isPlainObject } from '../shared.ts'
import type { Stats } from '../stats.ts'
import { RowField, type LearnedPredictor } from '../strategies/learner.ts'
import type { QueryEntries } from './entries.ts'
import type { ReportError } from './errors.ts'
import type { SchemaInfo } from './schema.ts'
import type { Sessions } from './session.ts'
import type { SpeculationUsage } from './usage.ts'

/** Providers where Prisma runs a relation as a join in the same statement, with `relationJoins`. */
const JOIN_PROVIDERS = new Set(['postgresql', 'cockroachdb', 'mysql'])
const SINGLE_ROW = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow'])
/** What a list read may hold to be loaded as a relation with the same result. */
const NESTED_ARGS = new Set(['where', 'orderBy', 'take', 'skip', 'select', 'include', 'omit', 'distinct'])
/** What a read answered by a to-one relation may hold besides its where. */
const TO_ONE_ARGS = new Set(['select', 'include', 'omit'])

/** Whether Prisma runs relations of `client` as joins (one statement per read). */
export function joinsRelations(client: unknown): boolean {
  const internals = client as { _previewFeatures?: unknown; _activeProvider?: unknown }
  return (
    Array.isArray(internals._previewFeatures) &&
    internals._previewFeatures.includes('relationJoins') &&
    typeof internals._activeProvider === 'string' &&
    JOIN_PROVIDERS.has(internals._activeProvider)
  )
}

/** A read to be sent with a follower added, and what to do with the result. */
export interface CombinedRead {
  /** The arguments to send. */
  args: Record<string, unknown>
  /** The relations added, in the order of `fields`. */
  relations: string[]
  /** The fields of the row the follower's arguments take. */
  fields: string[]
  /**
   * `list`: a list relation's rows; `one`: a to-one relation's row (or null); `related`: the
   * distinct rows of to-one relations, ordered by their key (`order`: 1 ascending, -1 descending).
   */
  kind: 'list' | 'one' | 'related'
  order: 1 | -1
  follower: { model: string; operation: string; args: Record<string, unknown>; deps: string[]; gens: string[] }
}

/** A follower's shape as a relation of the read: what `plan` needs before reading generations. */
interface Shaped {
  relations: string[]
  kind: CombinedRead['kind']
  order: 1 | -1
  /** The nested arguments of each relation. */
  nested: unknown
}

export class Combiner {
  /** Turned off for the process when Prisma refuses a combined read. */
  private on: boolean

  constructor(
    supported: boolean,
    private readonly threshold: number | false,
    private readonly learner: LearnedPredictor | undefined,
    private readonly sessions: Sessions,
    private readonly schema: SchemaInfo,
    private readonly entries: QueryEntries,
    private readonly stats: Stats,
    private readonly usage: SpeculationUsage,
    private readonly reportError: ReportError,
    private readonly now: () => number,
    /** Whether reads of a model may be prefetched (`models[model].prefetch`). */
    private readonly prefetches: (model: string) => boolean,
    /** Whether a query hook beneath this extension runs for `operation` of `model` (see HooksBeneath.runFor). */
    private readonly hookedBeneath: (model: string, operation: string) => boolean,
    /** Whether the learner is shown the current session's reads (the CPU back-off leaves most sessions out while the loop is busy). */
    private readonly observed: () => boolean = () => true,
  ) {
    this.on = supported && threshold !== false && learner !== undefined
  }

  /** Whether reads may be combined now: not those of a session the learner is not shown. */
  get enabled(): boolean {
    return this.on && this.observed()
  }

  /** The combined form of a read about to be sent outside transactions, or undefined to send it as it is. Never throws. */
  async plan(model: string, operation: string, args: unknown): Promise<CombinedRead | undefined> {
    if (!this.enabled || !SINGLE_ROW.has(operation) || !isPlainObject(args) || args.relationLoadStrategy !== undefined) return undefined
    // A query hook beneath this extension sees a combined read as one read of this model: one for
    // this read may change the relation's rows (or drop them) with the row, and one for the
    // follower never sees it. Either way what is kept might not be what the follower returns
    // sent alone through those hooks, so neither is combined (a hook may change anything).
    if (this.hookedBeneath(model, operation)) return undefined
    try {
      const session = this.sessions.current()
      const dependents = this.learner!.dependents({ session, query: { model, operation, args }, at: this.now() })
      for (const dependent of dependents) {
        if (dependent.probability < (this.threshold as number)) break
        const { model: followerModel, operation: followerOperation, args: followerArgs } = dependent.query
        const shaped =
          this.shapeList(model, followerModel, followerOperation, followerArgs, dependent.fields, dependent.path) ??
          this.shapeOne(model, followerModel, followerOperation, followerArgs, dependent.fields, dependent.path) ??
          this.shapeRelated(model, followerModel, followerOperation, followerArgs, dependent.fields, dependent.path)
        if (shaped === undefined || this.hookedBeneath(followerModel, followerOperation)) continue
        const combinedArgs = withRelations(args, shaped.relations, shaped.nested)
        if (combinedArgs === undefined) continue
        if (!this.entries.cacheable(followerModel, followerOperation) || !this.prefetches(followerModel)) continue
        // Its row is not known yet: a single-row follower reads under its models' list keys here.
        const tokens = await this.entries.generationsOf(followerModel, followerOperation, fill(followerArgs, undefined))
        if (tokens === undefined) return undefined
        return {
          args: combinedArgs,
          relations: shaped.relations,
          fields: dependent.fields,
          kind: shaped.kind,
          order: shaped.order,
          follower: { model: followerModel, operation: followerOperation, args: followerArgs, deps: tokens.deps, gens: tokens.gens },
        }
      }
    } catch (error) {
      this.reportError(error, { phase: 'prefetch', model, operation })
    }
    return undefined
  }

  /** The row as the application asked for it; the follower kept as its own read's result. Never throws. */
  finish(plan: CombinedRead, result: unknown): unknown {
    if (!isPlainObject(result)) return result
    const row: Record<string, unknown> = {}
    for (const name of Object.keys(result)) if (!plan.relations.includes(name)) row[name] = result[name]
    try {
      const value = this.followerResult(plan, result, row)
      if (value === undefined) return row
      const { model, operation, deps, gens } = plan.follower
      const args = fill(plan.follower.args, row)
      const { key, scope } = this.entries.keyOf(model, operation, args)
      // A single-row follower is kept under its own row's generations when nothing it read under
      // has moved since the query was sent (so its row has not either), else under those.
      const own = plan.kind === 'one' ? this.entries.depsOf(model, operation, args) : undefined
      const ownGens = own === undefined ? undefined : this.entries.ownGenerations(own, deps, gens)
      const speculation: Speculation = { strategy: 'combine', used: false, live: 0 }
      this.stats.speculation('issued', 'combine')
      this.stats.speculation('completed', 'combine')
      const stored =
        ownGens === undefined
          ? this.entries.store({ key, scope, deps }, model, operation, args, value, gens, speculation)
          : this.entries.store({ key, scope, deps: own! }, model, operation, args, value, ownGens, speculation)
      if (!stored) this.usage.wasteIfUnused(speculation)
    } catch (error) {
      this.reportError(error, { phase: 'prefetch', model: plan.follower.model, operation: plan.follower.operation })
    }
    return row
  }

  /** What the follower returns, taken from the combined result; undefined when it cannot be told. */
  private followerResult(plan: CombinedRead, result: Record<string, unknown>, row: Record<string, unknown>): unknown {
    const values = plan.fields.map((field) => row[field])
    if (values.some((value) => value === undefined)) return undefined
    if (plan.kind === 'list') {
      const rows = result[plan.relations[0]]
      return values[0] === null || !Array.isArray(rows) ? undefined : rows
    }
    if (plan.kind === 'one') {
      const related = result[plan.relations[0]]
      // A null key: the follower's own where would name no row (Prisma refuses it), so nothing is kept.
      return values[0] === null || (related !== null && !isPlainObject(related)) ? undefined : related
    }
    // The distinct rows the keys name, in key order, as `where: { key: { in } }, orderBy: { key }` returns them.
    const byKey = new Map<string, { key: number | bigint; row: unknown }>()
    for (let i = 0; i < values.length; i++) {
      const key = values[i]
      if (key === null) continue
      if (typeof key !== 'number' && typeof key !== 'bigint') return undefined
      const related = result[plan.relations[i]]
      if (related === null || byKey.has(String(key))) continue
      if (!isPlainObject(related)) return undefined
      byKey.set(String(key), { key, row: related })
    }
    return [...byKey.values()].sort((a, b) => (a.key < b.key ? -plan.order : a.key > b.key ? plan.order : 0)).map((entry) => entry.row)
  }

  /** Prisma refused a combined read: combine no more in this process (other failures are the read's own). */
  refused(error: unknown, model: string, operation: string): void {
    if ((error as { name?: unknown } | null)?.name !== 'PrismaClientValidationError') return
    this.on = false
    this.reportError(error, { phase: 'prefetch', model, operation })
  }

  /**
   * A list read of a model whose foreign key (the argument at `path`) references `field` of this
   * one through a list relation, with no cursor and ordered by a unique field last (so the
   * relation's rows come in the list read's order).
   */
  private shapeList(model: string, followerModel: string, operation: string, followerArgs: Record<string, unknown>, fields: string[], path: string): Shaped | undefined {
    if (operation !== 'findMany' || fields.length !== 1 || !path.startsWith('where.')) return undefined
    const key = path.slice('where.'.length)
    const through = this.schema.loadedThrough.get(followerModel)?.get(key)
    if (through === undefined || through.model !== model || through.references !== fields[0]) return undefined
    if (Object.keys(followerArgs).some((name) => !NESTED_ARGS.has(name))) return undefined
    const { where, ...rest } = followerArgs
    if (!isPlainObject(where) || !(where[key] instanceof RowField)) return undefined
    const { [key]: _, ...otherWhere } = where
    if (holdsRowField(otherWhere) || holdsRowField(rest)) return undefined
    if (!orderedByUnique(rest.orderBy, this.schema.uniqueFields.get(followerModel))) return undefined
    const nested = Object.keys(otherWhere).length > 0 ? { where: otherWhere, ...rest } : rest
    return { relations: [through.relation], kind: 'list', order: 1, nested }
  }

  /**
   * A `findUnique` or `findFirst` whose where is the key a to-one relation of this model
   * references, taken from the row's foreign key (`User.findUnique({ where: { id: item.sellerId } })`).
   */
  private shapeOne(model: string, followerModel: string, operation: string, followerArgs: Record<string, unknown>, fields: string[], path: string): Shaped | undefined {
    if ((operation !== 'findUnique' && operation !== 'findFirst') || fields.length !== 1) return undefined
    const relation = this.schema.toOne.get(model)?.get(fields[0])
    if (relation === undefined || relation.model !== followerModel || path !== `where.${relation.references}`) return undefined
    const nested = toOneNested(followerArgs, relation.references, (value) => value instanceof RowField)
    return nested === undefined ? undefined : { relations: [relation.relation], kind: 'one', order: 1, nested }
  }

  /**
   * A `findMany` of the rows the row's foreign keys name (`where: { id: { in: [row.aId, row.bId] } }`),
   * each key that of a to-one relation of this model to the key it filters on, ordered by that
   * key (an integer): the rows it returns are the relations' distinct rows in that order. A list
   * with no `orderBy` is not combined: its order is the plan's (PostgreSQL returns a sequential
   * scan's rows in the order they lie in the table, which updates change), not one this can build.
   */
  private shapeRelated(model: string, followerModel: string, operation: string, followerArgs: Record<string, unknown>, fields: string[], path: string): Shaped | undefined {
    if (operation !== 'findMany' || !path.startsWith('where.') || !path.endsWith('.in')) return undefined
    const key = path.slice('where.'.length, -'.in'.length)
    if (this.schema.rowFields.get(followerModel)?.get(key) !== 'int') return undefined
    const relations: string[] = []
    for (const field of fields) {
      const relation = this.schema.toOne.get(model)?.get(field)
      if (relation === undefined || relation.model !== followerModel || relation.references !== key || relations.includes(relation.relation)) return undefined
      relations.push(relation.relation)
    }
    const { orderBy, ...rest } = followerArgs
    const order = keyOrder(orderBy, key)
    if (order === undefined) return undefined
    const inList = (value: unknown) => isPlainObject(value) && Object.keys(value).length === 1 && Array.isArray(value.in) && value.in.every((item) => item instanceof RowField)
    const nested = toOneNested(rest, key, inList)
    return nested === undefined ? undefined : { relations, kind: 'related', order, nested }
  }
}

/** The read's arguments with `relations` added to its select or include, undefined if one is there already. */
function withRelations(args: Record<string, unknown>, relations: string[], nested: unknown): Record<string, unknown> | undefined {
  if (args.select !== undefined && args.include !== undefined) return undefined
  const container = args.select !== undefined ? 'select' : 'include'
  const current = args[container]
  if (current !== undefined && !isPlainObject(current)) return undefined
  const added: Record<string, unknown> = { ...(current ?? {}) }
  for (const relation of relations) {
    if (added[relation] !== undefined) return undefined
    added[relation] = nested
  }
  return { ...args, relationLoadStrategy: 'join', [container]: added }
}

/**
 * The nested arguments of a to-one relation that returns what a read with `args` returns: its
 * where exactly `{ [key]: <from the row> }`, the rest only select, include and omit.
 */
function toOneNested(args: Record<string, unknown>, key: string, fromRow: (value: unknown) => boolean): unknown {
  const { where, ...rest } = args
  if (!isPlainObject(where) || Object.keys(where).length !== 1 || !fromRow(where[key])) return undefined
  if (Object.keys(rest).some((name) => !TO_ONE_ARGS.has(name)) || holdsRowField(rest)) return undefined
  return Object.keys(rest).length === 0 ? true : rest
}

/** 1 or -1 when `orderBy` is `{ [key]: 'asc' | 'desc' }` (alone, or alone in a list). */
function keyOrder(orderBy: unknown, key: string): 1 | -1 | undefined {
  const only = Array.isArray(orderBy) ? (orderBy.length === 1 ? orderBy[0] : undefined) : orderBy
  if (!isPlainObject(only) || Object.keys(only).length !== 1) return undefined
  return only[key] === 'asc' ? 1 : only[key] === 'desc' ? -1 : undefined
}

/** Whether a list ordered by `orderBy` has one order: its last key is a unique field of the model. */
function orderedByUnique(orderBy: unknown, unique: ReadonlySet<string> | undefined): boolean {
  const last = Array.isArray(orderBy) ? orderBy[orderBy.length - 1] : orderBy
  if (!isPlainObject(last) || unique === undefined) return false
  const keys = Object.keys(last)
  return keys.length === 1 && unique.has(keys[0]) && (last[keys[0]] === 'asc' || last[keys[0]] === 'desc')
}

function holdsRowField(node: unknown): boolean {
  if (node instanceof RowField) return true
  if (Array.isArray(node)) return node.some(holdsRowField)
  return isPlainObject(node) && Object.values(node).some(holdsRowField)
}

/**
 * `node` with each RowField replaced by the row's value of its field (`row` undefined: by
 * undefined), and a list of RowFields by their values with nulls dropped (as the learned `fields`
 * source builds it).
 */
function fill(node: unknown, row: Record<string, unknown> | undefined): Record<string, unknown> {
  const valueOf = (field: RowField) => row?.[field.field]
  const walk = (item: unknown): unknown => {
    if (item instanceof RowField) return valueOf(item)
    if (Array.isArray(item)) {
      if (item.length > 0 && item.every((each) => each instanceof RowField)) return item.map(valueOf).filter((value) => value !== null && value !== undefined)
      return item.map(walk)
    }
    if (isPlainObject(item)) {
      const out: Record<string, unknown> = {}
      for (const name of Object.keys(item)) out[name] = walk(item[name])
      return out
    }
    return item
  }
  return walk(node) as Record<string, unknown>
}
