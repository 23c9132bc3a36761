/**
 * Each session's recent reads (steps, see steps.ts), bounded, in the order the transition model
 * and the argument mappings learn from: a loop over a list's rows (an N+1) counts as one step.
 */

import { BoundedMap } from '../bounded-map.ts'
import { locationsOf, type Step } from './steps.ts'
import type { SessionRef } from './types.ts'
import { matchKey, sameValue } from './values.ts'

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

  /** Forgets the history of session `sessionId`: its next read starts a new one. */
  forget(sessionId: string): void {
    this.sessions.delete(sessionId)
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
