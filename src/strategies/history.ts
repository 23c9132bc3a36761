/**
 * Each session's recent reads (templates, slot values and a bounded summary of their results),
 * for the transition model and the argument mappings to learn from.
 */

import { BoundedMap } from '../bounded-map.ts'
import { isPlainObject } from '../shared.ts'
import type { Template } from './template.ts'
import type { SessionRef } from './types.ts'
import { matchKey, MAX_KEY_STRING, sameValue } from './values.ts'

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

/** One read in a session's history. */
export interface Step {
  template: Template
  values: unknown[]
  result: ResultSummary | undefined
  at: number
  /** Where each matchable value of this step occurs; built when first needed. */
  index?: Map<string, Location[]>
  /** Of a list: the row that the latest lookup of one of its rows took (see `SessionHistories`). */
  cursor?: number
  /**
   * Set on a lookup that took the last row of a list, and on a list with no rows of a template
   * looped over before: either way no (further) loop over the list's rows follows.
   */
  lastRow?: boolean
  /** Of a lookup that is a loop's second iteration or later: the template of the list looped over. */
  loopOf?: string
}

/** Marks the last template id of a context when a loop over a list has just taken its last row. */
export const LOOP_DONE = '!'

/**
 * The ids of the last `order` templates of `steps`: the context of the transition model. While a
 * loop's last iteration is in it, the last id is marked: the loop is over, so what follows is
 * the read after it, not another lookup (a context of its own learns that).
 */
export function contextOf(steps: readonly Step[], order: number): string[] {
  const from = Math.max(0, steps.length - order)
  const ids: string[] = []
  let done = false
  for (let i = from; i < steps.length; i++) {
    ids.push(steps[i].template.id)
    if (steps[i].lastRow === true) done = true
  }
  if (done) ids[ids.length - 1] += LOOP_DONE
  return ids
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

function valuesOf(row: Record<string, unknown>, fields: readonly string[]): unknown[] {
  return fields.map((field) => {
    const dot = field.indexOf('.')
    if (dot < 0) return row[field]
    const inner = row[field.slice(0, dot)]
    return isPlainObject(inner) ? inner[field.slice(dot + 1)] : undefined
  })
}

/** Summarises a read's result; undefined when it has no rows to learn from (a count, a null). */
export function summarize(result: unknown, maxRows: number): ResultSummary | undefined {
  if (isPlainObject(result)) {
    const fields = fieldsOf(result)
    return { single: true, fields, rows: [valuesOf(result, fields)], last: undefined, length: 1 }
  }
  if (!Array.isArray(result) || result.length === 0 || !isPlainObject(result[0])) return undefined
  const fields = fieldsOf(result[0])
  const rows: unknown[][] = []
  for (let i = 0; i < result.length && i < maxRows; i++) {
    if (isPlainObject(result[i])) rows.push(valuesOf(result[i], fields))
  }
  const tail = result[result.length - 1]
  const last = result.length > maxRows && isPlainObject(tail) ? valuesOf(tail, fields) : undefined
  return { single: false, fields, rows, last, length: result.length }
}

/** Every matchable value of `step` and where it occurs (argument slots first, then rows in order). */
export function indexOf(step: Step): Map<string, Location[]> {
  if (step.index !== undefined) return step.index
  const index = new Map<string, Location[]>()
  step.values.forEach((value, slot) => addLocation(index, value, { kind: 'argument', slot }))
  step.result?.rows.forEach((row, r) => row.forEach((value, field) => addLocation(index, value, { kind: 'row', row: r, field })))
  step.index = index
  return index
}

function addLocation(index: Map<string, Location[]>, value: unknown, location: Location): void {
  const key = matchKey(value)
  if (key === undefined) return
  const list = index.get(key)
  if (list === undefined) index.set(key, [location])
  else if (list.length < 8) list.push(location)
}

/** A loop over the rows of a list: `head` looked up one of its rows, by the value of a field. */
interface Loop {
  list: Step
  /** The template of the lookups. */
  head: string
  /** The latest lookup: where the current iteration starts. */
  at: Step
}

interface SessionState {
  userId: string | undefined
  steps: Step[]
  lastAt: number
  loop: Loop | undefined
}

/**
 * The list of `steps` (before the last, within `lookback`, most recent first) of which `step` looks
 * up a row by its unique field, and that row; undefined if it is no such lookup.
 */
function lookupOf(step: Step, steps: readonly Step[], lookback: number): { list: Step; row: number } | undefined {
  const field = step.template.fanOutField
  if (field === undefined) return undefined
  const value = step.values[step.template.paths.indexOf(`where.${field}`)]
  if (matchKey(value) === undefined) return undefined
  for (let lag = 1; lag <= lookback && lag <= steps.length; lag++) {
    const list = steps[steps.length - lag]
    if (list.result === undefined || list.result.single) continue
    // A scan rather than the step's index: building that costs more than one look.
    const { rows } = list.result
    const next = (list.cursor ?? -1) + 1
    // Of two rows with the value, the next one is the one a loop takes.
    if (rows[next]?.some((cell) => sameValue(cell, value))) return { list, row: next }
    for (let row = 0; row < rows.length; row++) {
      if (rows[row].some((cell) => sameValue(cell, value))) return { list, row }
    }
  }
  return undefined
}

export interface HistoryBounds {
  maxSessions: number
  maxHistory: number
  sessionIdleMs: number
  windowMs: number
  lookback: number
}

/**
 * The recent reads of each session. Bounded three ways: at most `maxSessions` sessions (the
 * least recently active is dropped first), at most `maxHistory` steps each, and a session idle
 * for `sessionIdleMs` is forgotten. A gap longer than `windowMs` between two reads starts the
 * history afresh: reads that far apart are not taken to follow one another.
 *
 * A loop over a list (an N+1: a lookup of each row of the list by a field of the row, as each
 * row's author, each lookup maybe followed by reads of its own) counts as one step: when the
 * lookup of another row of the same list comes, the previous iteration leaves the history, so
 * the list stays in reach of what follows the loop whatever its length, and every iteration is
 * seen after the same history. The list's `cursor` is the row the latest lookup took.
 */
export class SessionHistories {
  private readonly sessions: BoundedMap<string, SessionState>

  constructor(private readonly bounds: HistoryBounds) {
    this.sessions = new BoundedMap(bounds.maxSessions)
  }

  get size(): number {
    return this.sessions.size
  }

  /** The history of `session` before `at` (most recent last), empty after a gap or idleness. */
  before(session: SessionRef, at: number): readonly Step[] {
    const state = this.sessions.get(session.sessionId)
    if (state === undefined || at - state.lastAt > Math.min(this.bounds.windowMs, this.bounds.sessionIdleMs)) return []
    return state.steps
  }

  /** Appends `step` to the history of `session`. */
  append(session: SessionRef, step: Step): void {
    this.expire(step.at)
    let state = this.sessions.get(session.sessionId)
    if (state !== undefined) {
      if (step.at - state.lastAt > Math.min(this.bounds.windowMs, this.bounds.sessionIdleMs)) state.steps = []
    } else {
      state = { userId: session.userId, steps: [], lastAt: step.at, loop: undefined }
    }
    if (session.userId !== undefined) state.userId = session.userId
    this.follow(state, step)
    state.steps.push(step)
    if (state.steps.length > this.bounds.maxHistory) state.steps.shift()
    state.lastAt = step.at
    this.sessions.remember(session.sessionId, state)
  }

  /** Keeps track of a loop over a list's rows, and drops its previous iteration when `step` starts the next. */
  private follow(state: SessionState, step: Step): void {
    const { steps, loop } = state
    if (loop !== undefined && !steps.includes(loop.list)) state.loop = undefined
    const lookup = lookupOf(step, steps, this.bounds.lookback)
    if (lookup === undefined) return
    const current = state.loop
    if (current !== undefined && current.list === lookup.list) {
      // A read of the loop's body that happens to hold a value of the list: not an iteration.
      if (current.head !== step.template.id) return
      const start = steps.lastIndexOf(current.at)
      if (start > steps.indexOf(current.list)) steps.length = start
      current.at = step
      step.loopOf = current.list.template.id
    } else {
      state.loop = { list: lookup.list, head: step.template.id, at: step }
    }
    lookup.list.cursor = lookup.row
    if (lookup.list.result !== undefined && lookup.row + 1 >= lookup.list.result.length) step.lastRow = true
  }

  /** Forgets sessions idle for longer than `sessionIdleMs` (the map is in order of activity). */
  private expire(now: number): void {
    for (const [id, state] of this.sessions) {
      if (now - state.lastAt <= this.bounds.sessionIdleMs) break
      this.sessions.delete(id)
    }
  }

  /** The length of the longest history (for tests of the bounds). */
  longest(): number {
    let longest = 0
    for (const state of this.sessions.values()) longest = Math.max(longest, state.steps.length)
    return longest
  }
}
