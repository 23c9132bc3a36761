/**
 * One read as the learner keeps it in a session's history (a `Step`): its template, slot values
 * and a bounded summary of its result, and where a value occurs in it (`locationsOf`).
 */

import { isPlainObject } from '../shared.ts'
import type { Template } from './template.ts'
import type { Candidate } from './types.ts'
import { MAX_KEY_STRING } from './values.ts'

/**
 * What is kept of a read's result: the scalar fields of its leading rows (top-level fields and
 * those of one level of nested objects, as `author.id`), and of its last row. Enough to learn
 * that a later argument is a field of a row, bounded whatever the result's size.
 */
export interface ResultSummary {
  /** Whether the read returns one row (findUnique, findFirst) rather than a list. */
  single: boolean
  fields: string[]
  /** The leading rows, as values in `fields` order. */
  rows: unknown[][]
  /** The last row, when the result had more rows than were kept. */
  last: unknown[] | undefined
  /** How many rows the result had. */
  length: number
}

/**
 * A transition's record of disagreements (the template read, then the template of the whole-read
 * memory's best follower of it; see `DuelRecords`): of the reads after which the memory's best
 * follower and the best derived candidate were two different reads, how often the next read was
 * the one (`exact`) and how often the other (`derived`), halved with `duels` as they age.
 */
export interface DuelRecord {
  duels: number
  exact: number
  derived: number
}

/** A disagreement to settle when the session's next read comes: its record and the two candidates. */
export interface Duel {
  record: DuelRecord
  /** The exact key of the memory's best follower. */
  exact: string
  /** The exact key of the best derived read, or the fan-out itself (its rows are many reads). */
  derived: string | Candidate
}

/** One read in a session's history. */
export interface Step {
  template: Template
  values: unknown[]
  result: ResultSummary | undefined
  at: number
  /** Of a list: the row that the latest lookup of one of its rows took (see `SessionHistories`). */
  cursor?: number
  /** Of a list: the template of the lookup that set `cursor`. */
  cursorBy?: string
  /**
   * Set on a lookup that took the last row of a list, and on a list with no rows of a template
   * looped over before: either way no (further) loop over the list's rows follows.
   */
  lastRow?: boolean
  /** Of a lookup that is a loop's second iteration or later: the template of the list looped over. */
  loopOf?: string
  /** Of a read observed: its exact key (template and slot values; see `exactKey`), if not too long. */
  key?: string
  /** Of a read observed: the disagreement between the whole-read memory and the derivation over the read after it, to settle. */
  duel?: Duel
}


export type Location = { kind: 'argument'; slot: number } | { kind: 'row'; row: number; field: number }

const MAX_FIELDS = 32

function keepable(value: unknown): boolean {
  return (
    value === null ||
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    typeof value === 'boolean' ||
    (typeof value === 'string' && value.length <= MAX_KEY_STRING) ||
    value instanceof Date
  )
}

function fieldsOf(row: Record<string, unknown>): string[] {
  const fields: string[] = []
  for (const key of Object.keys(row)) {
    if (fields.length >= MAX_FIELDS) break
    const value = row[key]
    if (keepable(value)) fields.push(key)
    else if (isPlainObject(value)) {
      for (const inner of Object.keys(value)) {
        if (fields.length >= MAX_FIELDS) break
        if (keepable(value[inner])) fields.push(`${key}.${inner}`)
      }
    }
  }
  return fields
}

/** A field of `fieldsOf` split once per result: its top-level key, and the inner key of a nested one. */
interface FieldPath {
  outer: string
  inner: string | undefined
}

function pathsOf(fields: readonly string[]): FieldPath[] {
  return fields.map((field) => {
    const dot = field.indexOf('.')
    return dot < 0 ? { outer: field, inner: undefined } : { outer: field.slice(0, dot), inner: field.slice(dot + 1) }
  })
}

function valuesOf(row: Record<string, unknown>, paths: readonly FieldPath[]): unknown[] {
  const values = new Array<unknown>(paths.length)
  for (let i = 0; i < paths.length; i++) {
    const { outer, inner } = paths[i]
    if (inner === undefined) values[i] = row[outer]
    else {
      const nested = row[outer]
      values[i] = isPlainObject(nested) ? nested[inner] : undefined
    }
  }
  return values
}

/** Summarises a read's result; undefined when it has no rows to learn from (a count, a null). */
export function summarize(result: unknown, maxRows: number): ResultSummary | undefined {
  if (isPlainObject(result)) {
    const fields = fieldsOf(result)
    return { single: true, fields, rows: [valuesOf(result, pathsOf(fields))], last: undefined, length: 1 }
  }
  if (!Array.isArray(result) || result.length === 0 || !isPlainObject(result[0])) return undefined
  const fields = fieldsOf(result[0])
  // The paths are split once for the whole list, not once per row.
  const paths = pathsOf(fields)
  const rows: unknown[][] = []
  for (let i = 0; i < result.length && i < maxRows; i++) {
    if (isPlainObject(result[i])) rows.push(valuesOf(result[i], paths))
  }
  const tail = result[result.length - 1]
  const last = result.length > maxRows && isPlainObject(tail) ? valuesOf(tail, paths) : undefined
  return { single: false, fields, rows, last, length: result.length }
}

/**
 * Where `value` (a value with a `matchKey`) occurs in `step`, argument slots first, then rows in
 * order, at most `MAX_LOCATIONS`: found by a scan. Discovering a slot's sources looks up one value
 * in each recent step, mostly once or twice per step: a scan compares the summary's cells in
 * place, where an index of the step would write a key and a location for every cell (the property
 * test checks the scan against such an index, test/strategies/steps.test.ts).
 */
export function locationsOf(step: Step, value: unknown): Location[] {
  const found: Location[] = []
  // A Date matches a Date of the same time; any other keyed value only itself (5 is not 5n).
  const time = value instanceof Date ? value.getTime() : undefined
  const same = (cell: unknown) => cell === value || (time !== undefined && cell instanceof Date && cell.getTime() === time)
  const { values } = step
  for (let slot = 0; slot < values.length; slot++) {
    if (same(values[slot])) {
      found.push({ kind: 'argument', slot })
      if (found.length >= MAX_LOCATIONS) return found
    }
  }
  const rows = step.result?.rows ?? []
  for (let row = 0; row < rows.length; row++) {
    const cells = rows[row]
    for (let field = 0; field < cells.length; field++) {
      if (same(cells[field])) {
        found.push({ kind: 'row', row, field })
        if (found.length >= MAX_LOCATIONS) return found
      }
    }
  }
  return found
}

/** Locations kept per value: a value found in more places than this says little about where it came from. */
export const MAX_LOCATIONS = 8
