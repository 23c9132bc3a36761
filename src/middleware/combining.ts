/**
 * Combining: a single-row read about to go to the database carries, as an added relation, the
 * list read predicted to follow it with its foreign key taken from the row, so both come back in
 * one statement (`relationLoadStrategy: 'join'`). The application gets the row exactly as it asked
 * for it (the relation removed); the list is kept as the list read's own result, a speculative
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
  relation: string
  /** The field of the row the follower's foreign key takes. */
  field: string
  follower: { model: string; args: Record<string, unknown>; deps: string[]; gens: string[] }
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
    /** Whether the query hooks beneath this extension treat every operation alike (see QueryEntries.rowsShared). */
    private readonly rowsShared: () => boolean,
  ) {
    this.on = supported && threshold !== false && learner !== undefined
  }

  /** Whether reads may be combined. */
  get enabled(): boolean {
    return this.on
  }

  /** The combined form of a read about to be sent outside transactions, or undefined to send it as it is. Never throws. */
  async plan(model: string, operation: string, args: unknown): Promise<CombinedRead | undefined> {
    // Query hooks beneath this extension for some operations only would see the list read inside
    // the user read, not as itself: its result might not be what it returns when sent alone.
    if (!this.enabled || !this.rowsShared() || !SINGLE_ROW.has(operation) || !isPlainObject(args) || args.relationLoadStrategy !== undefined) return undefined
    try {
      const session = this.sessions.current()
      const dependents = this.learner!.dependents({ session, query: { model, operation, args }, at: this.now() })
      for (const dependent of dependents) {
        if (dependent.probability < (this.threshold as number)) break
        const planned = this.shape(model, args, dependent.query.model, dependent.query.operation, dependent.query.args, dependent.field, dependent.path)
        if (planned === undefined) continue
        if (!this.entries.cacheable(planned.followerModel, 'findMany') || !this.prefetches(planned.followerModel)) continue
        const tokens = await this.entries.generationsOf(planned.followerModel, 'findMany', fill(planned.followerArgs, null))
        if (tokens === undefined) return undefined
        return {
          args: planned.args,
          relation: planned.relation,
          field: dependent.field,
          follower: { model: planned.followerModel, args: planned.followerArgs, deps: tokens.deps, gens: tokens.gens },
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
    const { [plan.relation]: rows, ...row } = result
    try {
      const value = row[plan.field]
      if (value === undefined || value === null || !Array.isArray(rows)) return row
      const { model, deps, gens } = plan.follower
      const args = fill(plan.follower.args, value)
      const { key, scope } = this.entries.keyOf(model, 'findMany', args)
      const speculation: Speculation = { strategy: 'combine', used: false, live: 0 }
      this.stats.speculation('issued', 'combine')
      this.stats.speculation('completed', 'combine')
      if (!this.entries.store({ key, scope, deps }, model, 'findMany', args, rows, gens, speculation)) this.usage.wasteIfUnused(speculation)
    } catch (error) {
      this.reportError(error, { phase: 'prefetch', model: plan.follower.model, operation: 'findMany' })
    }
    return row
  }

  /** Prisma refused a combined read: combine no more in this process (other failures are the read's own). */
  refused(error: unknown, model: string, operation: string): void {
    if ((error as { name?: unknown } | null)?.name !== 'PrismaClientValidationError') return
    this.on = false
    this.reportError(error, { phase: 'prefetch', model, operation })
  }

  /**
   * The arguments of the read with the follower added as a relation, when the follower is a list
   * read of a model whose foreign key (the argument at `path`) references `field` of this one
   * through a list relation the read does not load already, with no cursor and ordered by a
   * unique field last (so the relation's rows come in the list read's order).
   */
  private shape(model: string, args: Record<string, unknown>, followerModel: string, operation: string, followerArgs: Record<string, unknown>, field: string, path: string) {
    if (operation !== 'findMany' || !path.startsWith('where.')) return undefined
    const key = path.slice('where.'.length)
    const through = this.schema.loadedThrough.get(followerModel)?.get(key)
    if (through === undefined || through.model !== model || through.references !== field) return undefined
    const relation = through.relation
    if (Object.keys(followerArgs).some((name) => !NESTED_ARGS.has(name))) return undefined
    const { where, ...rest } = followerArgs
    if (!isPlainObject(where) || !(where[key] instanceof RowField)) return undefined
    const { [key]: _, ...otherWhere } = where
    if (holdsRowField(otherWhere) || holdsRowField(rest)) return undefined
    if (!orderedByUnique(rest.orderBy, this.schema.uniqueFields.get(followerModel))) return undefined
    const container = args.select !== undefined ? 'select' : 'include'
    const current = args[container]
    if (current !== undefined && !isPlainObject(current)) return undefined
    if (current !== undefined && current[relation] !== undefined) return undefined
    if (args.select !== undefined && args.include !== undefined) return undefined
    const nested = Object.keys(otherWhere).length > 0 ? { where: otherWhere, ...rest } : rest
    return {
      relation,
      followerModel,
      followerArgs,
      args: { ...args, relationLoadStrategy: 'join', [container]: { ...(current ?? {}), [relation]: nested } },
    }
  }
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

/** `node` with `value` where a RowField is. */
function fill(node: unknown, value: unknown): Record<string, unknown> {
  const walk = (item: unknown): unknown => {
    if (item instanceof RowField) return value
    if (Array.isArray(item)) return item.map(walk)
    if (isPlainObject(item)) {
      const out: Record<string, unknown> = {}
      for (const name of Object.keys(item)) out[name] = walk(item[name])
      return out
    }
    return item
  }
  return walk(node) as Record<string, unknown>
}
