/**
 * Sources of argument values: where the value of a slot of a next read can come from (an
 * argument or a result field of a recent read, a step from the last value, ...), what a source
 * gives in a history, and every source that gives a value seen.
 */

import { valueText } from '../canonical.ts'
import { locationsOf, type ResultSummary, type Step } from './steps.ts'
import { recalledValue, type Recall, type RecallSource } from './recall.ts'
import type { TemplatedQuery } from './template.ts'
import { matchKey, sameValue } from './values.ts'

/**
 * Where the value of a slot can come from. `lag` counts back through the session's history
 * (1 is the read just before), and `template` is the template the read at that lag must have.
 */
export type Source =
  | { kind: 'constant'; value: unknown }
  | { kind: 'argument'; lag: number; template: string; slot: number }
  | { kind: 'step'; lag: number; template: string; slot: number; delta: number }
  | { kind: 'row'; lag: number; template: string; row: number | 'last'; field: string }
  | { kind: 'anyRow'; lag: number; template: string; field: string }
  | { kind: 'nextRow'; lag: number; template: string; field: string }
  | { kind: 'fields'; lag: number; template: string; fields: string[] }
  | { kind: 'column'; lag: number; template: string; field: string }
  | RecallSource

/** Rows matched by position (`row 0`, `row 1`, ...) beyond which only "any row" is learned. */
export const POSITIONAL_ROWS = 3
/** Constants longer than this as text are not learned (a slot that long is not a constant). */
export const MAX_CONSTANT_TEXT = 256
/** Order of preference between sources that held equally often: the most specific first, the recalled last. */
export const RANK: Record<Source['kind'], number> = { argument: 0, row: 1, nextRow: 2, fields: 3, column: 4, step: 5, constant: 6, anyRow: 7, recall: 8, recallRow: 9 }

export const MISSING = Symbol('missing')
/** The values of a field over every kept row: an `anyRow` source matches any of them. */
export class AnyOf {
  constructor(readonly values: unknown[]) {}
}

export function keyOf(source: Source): string {
  switch (source.kind) {
    case 'constant':
      return `c:${valueText(source.value)}`
    case 'argument':
      return `a:${source.lag}:${source.template}:${source.slot}`
    case 'step':
      return `s:${source.lag}:${source.template}:${source.slot}:${source.delta}`
    case 'row':
      return `r:${source.lag}:${source.template}:${source.row}:${source.field}`
    case 'anyRow':
      return `y:${source.lag}:${source.template}:${source.field}`
    case 'nextRow':
      return `x:${source.lag}:${source.template}:${source.field}`
    case 'fields':
      return `f:${source.lag}:${source.template}:${source.fields.join(',')}`
    case 'column':
      return `k:${source.lag}:${source.template}:${source.field}`
    case 'recall':
      return `m:${source.template}:${source.slot}`
    case 'recallRow':
      return `w:${source.template}:${source.field}`
  }
}

export function rowValues(result: ResultSummary, row: number | 'last'): unknown[] | undefined {
  if (row === 'last') return result.last ?? (result.rows.length === result.length ? result.rows[result.rows.length - 1] : undefined)
  return result.rows[row]
}

/** The value `source` gives in `history` (or the session's `recall`), MISSING when the read it names is not there. */
export function evaluate(source: Source, history: readonly Step[], recall?: Recall): unknown {
  if (source.kind === 'constant') return source.value
  if (source.kind === 'recall' || source.kind === 'recallRow') return recalledValue(source, recall) ?? MISSING
  const step = history[history.length - source.lag]
  if (step === undefined || step.template.id !== source.template) return MISSING
  switch (source.kind) {
    case 'argument':
      return step.values[source.slot]
    case 'step': {
      const base = step.values[source.slot]
      return typeof base === 'number' ? base + source.delta : MISSING
    }
    default:
      break
  }
  const result = step.result
  if (result === undefined) return MISSING
  if (source.kind === 'fields') {
    const row = result.rows[0]
    const values: unknown[] = []
    for (const field of source.fields) {
      const i = result.fields.indexOf(field)
      if (i < 0) return MISSING
      if (row[i] !== null && row[i] !== undefined) values.push(row[i])
    }
    return values
  }
  const i = result.fields.indexOf(source.field)
  if (i < 0) return MISSING
  switch (source.kind) {
    case 'row': {
      const row = rowValues(result, source.row)
      return row === undefined ? MISSING : row[i]
    }
    case 'column':
      return result.rows.length === result.length ? result.rows.map((row) => row[i]) : MISSING
    case 'nextRow': {
      if (result.single) return MISSING
      const row = result.rows[(step.cursor ?? -1) + 1]
      return row === undefined ? MISSING : row[i]
    }
    case 'anyRow': {
      const values = result.rows.map((row) => row[i])
      if (result.last !== undefined) values.push(result.last[i])
      return new AnyOf(values)
    }
  }
}

export function holds(value: unknown, actual: unknown): boolean {
  if (value instanceof AnyOf) return value.values.some((candidate) => sameValue(candidate, actual))
  return sameValue(value, actual)
}

/** Every source in `history` that gives `actual` for slot `slot` of `next`. */
export function discover(next: TemplatedQuery, slot: number, actual: unknown, history: readonly Step[], lookback: number): Source[] {
  // Constants are not sources: the value memory counts the values themselves.
  const found: Source[] = []
  const key = matchKey(actual)
  for (let lag = 1; lag <= lookback && lag <= history.length; lag++) {
    const step = history[history.length - lag]
    const template = step.template.id
    const result = step.result
    if (template === next.template.id && typeof actual === 'number' && typeof step.values[slot] === 'number') {
      const delta = actual - (step.values[slot] as number)
      if (delta !== 0) found.push({ kind: 'step', lag, template, slot, delta })
    }
    if (key !== undefined) {
      const anyRowFields = new Set<string>()
      for (const location of locationsOf(step, actual)) {
        if (location.kind === 'argument') {
          found.push({ kind: 'argument', lag, template, slot: location.slot })
          continue
        }
        const field = result!.fields[location.field]
        if (result!.single || location.row < POSITIONAL_ROWS) found.push({ kind: 'row', lag, template, row: location.row, field })
        if (!result!.single) {
          anyRowFields.add(field)
          if (location.row === (step.cursor ?? -1) + 1) found.push({ kind: 'nextRow', lag, template, field })
        }
      }
      if (result !== undefined && !result.single) {
        const last = rowValues(result, 'last')
        last?.forEach((value, i) => {
          if (sameValue(value, actual)) {
            found.push({ kind: 'row', lag, template, row: 'last', field: result.fields[i] })
            anyRowFields.add(result.fields[i])
          }
        })
      }
      for (const field of anyRowFields) found.push({ kind: 'anyRow', lag, template, field })
    } else if (Array.isArray(actual) && actual.length > 0) {
      step.values.forEach((value, i) => {
        if (sameValue(value, actual)) found.push({ kind: 'argument', lag, template, slot: i })
      })
      if (result?.single) {
        const fields = matchFields(result, actual)
        if (fields !== undefined) found.push({ kind: 'fields', lag, template, fields })
      } else if (result !== undefined && result.rows.length === result.length) {
        result.fields.forEach((field, i) => {
          if (sameValue(result.rows.map((row) => row[i]), actual)) found.push({ kind: 'column', lag, template, field })
        })
      }
    }
  }
  return found
}

/** The fields of a one-row result whose values, in order and nulls dropped, make `actual`. */
export function matchFields(result: ResultSummary, actual: unknown[]): string[] | undefined {
  const row = result.rows[0]
  const fields: string[] = []
  let from = 0
  for (const value of actual) {
    let i = from
    while (i < row.length && !sameValue(row[i], value)) i++
    if (i >= row.length) return undefined
    fields.push(result.fields[i])
    from = i + 1
  }
  return fields
}
