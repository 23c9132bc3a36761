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
 * Every matchable value of `step` and where it occurs (argument slots first, then rows in order),
 * kept on the step. What `locationsOf` answers by a scan, for one value; the learner locates values
 * with `locationsOf` only, and this index is the definition its property test checks it against.
 */
export function indexOf(step: Step): Map<string, Location[]> {
  if (step.index !== undefined) return step.index
  const index = new Map<string, Location[]>()
  step.values.forEach((value, slot) => addLocation(index, value, { kind: 'argument', slot }))
  step.result?.rows.forEach((row, r) => row.forEach((value, field) => addLocation(index, value, { kind: 'row', row: r, field })))
  step.index = index
  return index
}

/**
 * Where `value` (a value with a `matchKey`) occurs in `step`: the locations `indexOf(step)` holds
 * under its key, in the same order and as many (at most 8), found by a scan. Discovering a slot's
 * sources looks up one value in each recent step, mostly once or twice per step: a scan compares
 * the summary's cells in place, where the index writes a key and a location for every cell.
 */
export function locationsOf(step: Step, value: unknown): Location[] {
  if (step.index !== undefined) return step.index.get(matchKey(value)!) ?? []
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
const MAX_LOCATIONS = 8

function addLocation(index: Map<string, Location[]>, value: unknown, location: Location): void {
  const key = matchKey(value)
  if (key === undefined) return
  const list = index.get(key)
  if (list === undefined) index.set(key, [location])
  else if (list.length < MAX_LOCATIONS) list.push(location)
}

/** A loop over the rows of a list: `head` looked up one of its rows, by the value of a field. */
interface Loop {
  list: Step
  /** The template of the lookups. */
  head: string
  /** The latest lookup: where the current iteration starts. */
  at: Step
  /** Whether a second lookup of the list's rows came: a loop, not one lookup. */
  confirmed: boolean
  /** Reads of the current iteration after its lookup (its body). */
  body: number
  /** The longest body of an iteration done. */
  longest: number
}

interface SessionState {
  userId: string | undefined
  steps: Step[]
  lastAt: number
  loop: Loop | undefined
}

/** The row of `rows` at `row` has `value` in a field whose value the next row does not share (a key, not a filter all rows match). */
function keyedAt(rows: readonly unknown[][], row: number, value: unknown): boolean {
  const cells = rows[row]
  if (cells === undefined) return false
  const other = rows[row + 1] ?? rows[row - 1]
  for (let i = 0; i < cells.length; i++) {
    if (sameValue(cells[i], value)) return other === undefined || !sameValue(other[i], value)
  }
  return false
}

/** Whether an argument of `step` is a value of `on` (an argument or a field of its result): a read of the loop's body. */
function dependsOn(step: Step, on: Step): boolean {
  for (const value of step.values) {
    if (matchKey(value) !== undefined && locationsOf(on, value).length > 0) return true
  }
  return false
}

/**
 * The list of which `step` looks up a row by a field of the row, and that row; undefined if it
 * is no such lookup. A read by a unique field (`fanOutField`) may take any row of a list within
 * `lookback`; any other read keyed by a field of its `where` only the row after the one the
 * latest lookup took (the first row of a new list), by a field whose value the rows do not all
 * share. The list of a loop under way is found at any distance (its iterations may be longer
 * than `lookback`).
 */
function lookupOf(step: Step, steps: readonly Step[], lookback: number, loop: Loop | undefined): { list: Step; row: number } | undefined {
  const slot = step.template.keySlot
  if (slot === undefined) return undefined
  const value = step.values[slot]
  if (matchKey(value) === undefined) return undefined
  const unique = step.template.fanOutField !== undefined
  if (loop !== undefined && loop.head === step.template.id) {
    const rows = loop.list.result!.rows
    const next = (loop.list.cursor ?? -1) + 1
    if (keyedAt(rows, next, value)) return { list: loop.list, row: next }
  }
  for (let lag = 1; lag <= lookback && lag <= steps.length; lag++) {
    const list = steps[steps.length - lag]
    if (list.result === undefined || list.result.single || list.template.id === step.template.id) continue
    // A scan rather than the step's index: building that costs more than one look.
    const { rows } = list.result
    const next = (list.cursor ?? -1) + 1
    // Of two rows with the value, the next one is the one a loop takes.
    if (unique ? rows[next]?.some((cell) => sameValue(cell, value)) : keyedAt(rows, next, value)) return { list, row: next }
    if (!unique) continue
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
  /** Templates of lists whose loops are remembered. */
  maxTemplates: number
}

/** What is remembered of the loops over a template of list: their lookups' template and their longest iteration body. */
interface KnownLoop {
  head: string
  longest: number
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
  /** Templates of lists whose rows a loop looked up one by one (at most `maxTemplates`, the least recent forgotten). */
  private readonly loops: BoundedMap<string, KnownLoop>

  constructor(private readonly bounds: HistoryBounds) {
    this.sessions = new BoundedMap(bounds.maxSessions)
    this.loops = new BoundedMap(bounds.maxTemplates)
  }

  /** Whether a loop went over the rows of a list of template `id` before. */
  loopedOver(id: string): boolean {
    return this.loops.has(id)
  }

  /** Whether lookups of template `head` went over the rows of a list of template `id` one by one, as a loop, before. */
  loopedBy(id: string, head: string): boolean {
    return this.loops.get(id)?.head === head
  }

  /** Templates of lists looped over that are remembered (for tests of the bounds). */
  get loopedLists(): number {
    return this.loops.size
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

  /**
   * The history `session` would have after also reading `steps` (reads it has not made, oldest
   * first): built by the rules `append` follows (a loop's iteration taking the place of the one
   * before, the row a lookup took, a loop's last row), so what is predicted after them is what
   * would be predicted after the session's own reads. Changes nothing: the session's steps and
   * the loops remembered stay as they were (`steps` themselves may be marked).
   */
  extended(session: SessionRef, at: number, steps: readonly Step[]): Step[] {
    const before = this.before(session, at)
    const copies = new Map<Step, Step>()
    const copy = (step: Step): Step => {
      let copied = copies.get(step)
      if (copied === undefined) copies.set(step, (copied = { ...step }))
      return copied
    }
    const loop = before.length === 0 ? undefined : this.sessions.get(session.sessionId)?.loop
    const state: SessionState = {
      userId: session.userId,
      steps: before.map(copy),
      lastAt: at,
      loop: loop === undefined ? undefined : { ...loop, list: copy(loop.list), at: copy(loop.at) },
    }
    for (const step of steps) {
      this.follow(state, step, false)
      state.steps.push(step)
      if (state.steps.length > this.bounds.maxHistory) state.steps.shift()
    }
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

  /**
   * Keeps track of a loop over a list's rows: when `step` starts its next iteration, the previous
   * one leaves the history; while a confirmed loop's iteration is no longer than its longest
   * before, each read of its body takes the place of the one before it (the lookup stays), so the
   * list is never more than three steps back, during the loop and after it. `remember`: a loop
   * confirmed is remembered for the lists of its kind to come (not for reads only imagined).
   */
  private follow(state: SessionState, step: Step, remember = true): void {
    const { steps } = state
    let loop = state.loop
    if (loop !== undefined && !steps.includes(loop.list)) loop = state.loop = undefined
    const lookup = lookupOf(step, steps, this.bounds.lookback, loop)
    if (lookup === undefined) {
      if (loop === undefined) return
      loop.body++
      if (!loop.confirmed) return
      // An iteration longer than any before: the loop is over, this read follows it.
      if (loop.body > loop.longest) state.loop = undefined
      else if (loop.body > 1 && steps[steps.length - 1] !== loop.at && dependsOn(step, loop.at)) steps.pop()
      return
    }
    if (loop !== undefined && loop.list === lookup.list) {
      // A read of the loop's body that happens to hold a value of the list: not an iteration.
      if (loop.head !== step.template.id) {
        loop.body++
        return
      }
      const start = steps.lastIndexOf(loop.at)
      if (start > steps.indexOf(loop.list)) steps.length = start
      loop.at = step
      loop.confirmed = true
      loop.longest = Math.max(loop.longest, loop.body)
      loop.body = 0
      step.loopOf = loop.list.template.id
      if (remember) this.loops.remember(step.loopOf, { head: loop.head, longest: loop.longest })
    } else {
      // A list of a kind looped over before, by lookups of this template: its first iteration is
      // taken as a loop's already (its body as long as theirs at most).
      const known = this.loops.get(lookup.list.template.id)
      const confirmed = known?.head === step.template.id
      state.loop = { list: lookup.list, head: step.template.id, at: step, confirmed, body: 0, longest: confirmed ? known!.longest : 0 }
    }
    lookup.list.cursor = lookup.row
    lookup.list.cursorBy = step.template.id
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
