/**
 * The recall memory: per session, the last read of each template (its argument values and, for a
 * single-row result, that row's fields), kept beyond the history's reach so that a value a
 * session gave or read many reads ago (its credentials, its own user id) can be an argument
 * source. Bounded by `maxSessions` sessions and `maxRecall` templates each.
 */

import { BoundedMap } from '../bounded-map.ts'
import type { ResultSummary, Step } from './steps.ts'
import type { SessionRef } from './types.ts'
import { matchKey, sameValue } from './values.ts'

/**
 * Sources that read the recall memory: `recall` is argument `slot` of the session's last read of
 * `template`, `recallRow` field `field` of that read's row (a single-row read's only).
 */
export type RecallSource = { kind: 'recall'; template: string; slot: number } | { kind: 'recallRow'; template: string; field: string }

/** What is remembered of a session's last read of one template. */
export interface Recalled {
  /** Its argument values that a later read could copy (with a `matchKey`); undefined for the others. */
  values: unknown[]
  /** The summary of its result when it was a single row; undefined for a list or no row. */
  row: ResultSummary | undefined
}

/** One session's recall memory: template id to its last read. */
export type Recall = ReadonlyMap<string, Recalled>

export interface RecallBounds {
  maxSessions: number
  /** Templates remembered per session (the least recently read forgotten first). */
  maxRecall: number
  sessionIdleMs: number
}

interface SessionRecallState {
  templates: BoundedMap<string, Recalled>
  lastAt: number
}

/** Recalled sources found per value at most: a value found in more places says little about where it came from. */
const MAX_RECALLED = 8

/** The recall memory of every session, bounded as `RecallBounds` says; a session idle for `sessionIdleMs` recalls nothing. */
export class SessionRecall {
  private readonly sessions: BoundedMap<string, SessionRecallState>

  constructor(private readonly bounds: RecallBounds) {
    this.sessions = new BoundedMap(bounds.maxSessions)
  }

  /** What `session` recalls at `at`, undefined when nothing (a new or idle session). */
  of(session: SessionRef, at: number): Recall | undefined {
    const state = this.sessions.get(session.sessionId)
    if (state === undefined || at - state.lastAt > this.bounds.sessionIdleMs) return undefined
    return state.templates
  }

  /** Remembers `step` as the session's last read of its template. */
  remember(session: SessionRef, step: Step): void {
    let state = this.sessions.get(session.sessionId)
    if (state === undefined || step.at - state.lastAt > this.bounds.sessionIdleMs) state = { templates: new BoundedMap(this.bounds.maxRecall), lastAt: step.at }
    state.lastAt = step.at
    const values = step.values.map((value) => (matchKey(value) === undefined ? undefined : value))
    state.templates.remember(step.template.id, { values, row: step.result?.single === true ? step.result : undefined })
    this.sessions.remember(session.sessionId, state)
  }

  /** Forgets what session `sessionId` recalls. */
  forget(sessionId: string): void {
    this.sessions.delete(sessionId)
  }

  get size(): number {
    return this.sessions.size
  }

  /** The most templates one session recalls (for tests of the bounds). */
  longest(): number {
    let longest = 0
    for (const state of this.sessions.values()) longest = Math.max(longest, state.templates.size)
    return longest
  }
}

/** The value `source` gives from `recall`, undefined when the read it names is not remembered. */
export function recalledValue(source: RecallSource, recall: Recall | undefined): unknown {
  const recalled = recall?.get(source.template)
  if (recalled === undefined) return undefined
  if (source.kind === 'recall') return recalled.values[source.slot]
  const row = recalled.row
  if (row === undefined) return undefined
  const i = row.fields.indexOf(source.field)
  return i < 0 ? undefined : row.rows[0][i]
}

/** Every recall source that gives `actual` (a value with a `matchKey`), at most `MAX_RECALLED`. */
export function discoverRecalled(actual: unknown, recall: Recall | undefined): RecallSource[] {
  const found: RecallSource[] = []
  if (recall === undefined || matchKey(actual) === undefined) return found
  for (const [template, { values, row }] of recall) {
    for (let slot = 0; slot < values.length; slot++) {
      if (values[slot] !== undefined && sameValue(values[slot], actual)) {
        found.push({ kind: 'recall', template, slot })
        if (found.length >= MAX_RECALLED) return found
      }
    }
    if (row === undefined) continue
    const cells = row.rows[0]
    for (let i = 0; i < cells.length; i++) {
      if (matchKey(cells[i]) !== undefined && sameValue(cells[i], actual)) {
        found.push({ kind: 'recallRow', template, field: row.fields[i] })
        if (found.length >= MAX_RECALLED) return found
      }
    }
  }
  return found
}
