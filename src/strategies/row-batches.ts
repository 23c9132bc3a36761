/**
 * Chained fan-out: the single-row reads predicted to follow each row of a batch (the seller of
 * each item a fan-out fetched) gathered into one batched `findMany` per kind of read, each of its
 * rows kept as the result of its own single-row read, as a fan-out over a list is.
 */

import { argsText, valueText } from '../canonical.ts'
import { isPlainObject } from '../shared.ts'
import type { Candidate, FanOut } from './types.ts'

/** The single-row operations a batch's rows can stand for (as a fan-out's). */
const ROW_OPERATIONS = new Set(['findUnique', 'findUniqueOrThrow'])

/** A candidate predicted from one row, with what it was predicted from (`from`). */
export interface Followed<T> {
  candidate: Candidate
  from: T
}

/** One batched read standing for single-row reads predicted from several rows. */
export interface RowBatch<T> {
  /** A `findMany` with `where: { [field]: { in: values } }`, its `fanOut` the reads it stands for. */
  candidate: Candidate & { fanOut: FanOut }
  /** What the read of `value` was predicted from (its first row, when several predicted it). */
  fromOf(value: unknown): T
}

/**
 * Gathers the single-row reads in `followed` that differ only in the value of their one `where`
 * field (`{ where: { id: 7 }, select: { nickname: true } }` for several ids) into batches of at
 * most `maxRows` distinct values, in the order they were predicted. `loop`: the rows they were
 * predicted from are read one after another, so each read may come and a batch takes the highest
 * probability of its reads (a loop of its own); otherwise at most one of them comes and a batch
 * takes their sum (at most 1). A read alone of its kind, and every other candidate, stays single.
 */
export function batchRowReads<T>(followed: readonly Followed<T>[], maxRows: number, loop = true): { batches: RowBatch<T>[]; singles: Followed<T>[] } {
  const groups = new Map<string, { field: string; members: Followed<T>[] }>()
  const singles: Followed<T>[] = []
  for (const item of followed) {
    const field = rowField(item.candidate)
    if (field === undefined) {
      singles.push(item)
      continue
    }
    const { model, operation, args } = item.candidate.query
    // The kind of read: everything but the value matched on (and the strategy that proposed it).
    const kind = `${item.candidate.strategy}\u0000${model}.${operation}\u0000${field}\u0000${argsText({ ...args, where: null })}`
    const group = groups.get(kind)
    if (group === undefined) groups.set(kind, { field, members: [item] })
    else group.members.push(item)
  }
  const batches: RowBatch<T>[] = []
  for (const { field, members } of groups.values()) {
    const distinct = new Map<string, Followed<T>>()
    for (const member of members) {
      const text = valueText((member.candidate.query.args.where as Record<string, unknown>)[field])
      if (!distinct.has(text) && distinct.size < maxRows) distinct.set(text, member)
    }
    if (distinct.size < 2) {
      singles.push(...distinct.values())
      continue
    }
    batches.push(batchOf(field, [...distinct.values()], members, loop))
  }
  return { batches, singles }
}

/** The field a single-row read is matched on, when it can stand in a batch: one scalar `where` member. */
function rowField(candidate: Candidate): string | undefined {
  const { operation, args } = candidate.query
  if (candidate.fanOut !== undefined || !ROW_OPERATIONS.has(operation) || !isPlainObject(args.where)) return undefined
  const keys = Object.keys(args.where)
  if (keys.length !== 1) return undefined
  const value = args.where[keys[0]]
  if (value === null || (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint')) return undefined
  // A batch that leaves the field out could not tell its rows apart.
  if (isPlainObject(args.omit) && args.omit[keys[0]] === true) return undefined
  return keys[0]
}

function batchOf<T>(field: string, kept: readonly Followed<T>[], members: readonly Followed<T>[], loop: boolean): RowBatch<T> {
  const { model, operation, args } = kept[0].candidate.query
  const values = kept.map((member) => (member.candidate.query.args.where as Record<string, unknown>)[field])
  const argsFor = (value: unknown): Record<string, unknown> => ({ ...args, where: { [field]: value } })
  const select = args.select
  const strip = isPlainObject(select) && select[field] !== true
  const batch: Record<string, unknown> = { ...args, where: { [field]: { in: values } } }
  if (strip) batch.select = { ...(select as Record<string, unknown>), [field]: true }
  const from = new Map(kept.map((member, i) => [valueText(values[i]), member.from]))
  // Reads of the same value predicted from several rows count once per row: any of them may come.
  const probabilities = members.filter((member) => from.has(valueText((member.candidate.query.args.where as Record<string, unknown>)[field]))).map((member) => member.candidate.probability)
  return {
    candidate: {
      query: { model, operation: 'findMany', args: batch },
      probability: loop ? Math.max(...probabilities) : Math.min(1, probabilities.reduce((sum, p) => sum + p, 0)),
      strategy: 'fanOut',
      fanOut: { operation, field, argsFor, strip, values, loop },
    },
    fromOf: (value) => from.get(valueText(value)) ?? kept[0].from,
  }
}
