import { indexOf, type ResultSummary, type Step } from './history.ts'
import type { Template, TemplatedQuery } from './template.ts'
import { matchKey, sameValue, stableText } from './values.ts'

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
  | { kind: 'fields'; lag: number; template: string; fields: string[] }
  | { kind: 'column'; lag: number; template: string; field: string }

/** How often a source held for a slot: it gave the slot's actual value `held` of `seen` times. */
export interface Evidence {
  source: Source
  key: string
  held: number
  seen: number
}

export interface MappingBounds {
  /** How many reads back a value is looked for. */
  lookback: number
  /** Sources tracked per slot. */
  maxSources: number
  /** Templates whose mappings are kept. */
  maxTemplates: number
  /** Observations a source needs before it is used. */
  minSupport: number
  /** The share of observations a source must have held to be used. */
  minConfidence: number
  /** Halve a source's counts when it has been seen this often. */
  agingLimit: number
  /** Rows fetched at most by one fan-out. */
  maxFanOut: number
}

/** Rows matched by position (`row 0`, `row 1`, ...) beyond which only "any row" is learned. */
const POSITIONAL_ROWS = 3
/** Constants longer than this as text are not learned (a slot that long is not a constant). */
const MAX_CONSTANT_TEXT = 256
/** Order of preference between sources that held equally often: the most specific first. */
const RANK: Record<Source['kind'], number> = { argument: 0, row: 1, fields: 2, column: 3, step: 4, constant: 5, anyRow: 6 }

const MISSING = Symbol('missing')
/** The values of a field over every kept row: an `anyRow` source matches any of them. */
class AnyOf {
  constructor(readonly values: unknown[]) {}
}

function keyOf(source: Source): string {
  switch (source.kind) {
    case 'constant':
      return `c:${stableText(source.value)}`
    case 'argument':
      return `a:${source.lag}:${source.template}:${source.slot}`
    case 'step':
      return `s:${source.lag}:${source.template}:${source.slot}:${source.delta}`
    case 'row':
      return `r:${source.lag}:${source.template}:${source.row}:${source.field}`
    case 'anyRow':
      return `y:${source.lag}:${source.template}:${source.field}`
    case 'fields':
      return `f:${source.lag}:${source.template}:${source.fields.join(',')}`
    case 'column':
      return `k:${source.lag}:${source.template}:${source.field}`
  }
}

function rowValues(result: ResultSummary, row: number | 'last'): unknown[] | undefined {
  if (row === 'last') return result.last ?? (result.rows.length === result.length ? result.rows[result.rows.length - 1] : undefined)
  return result.rows[row]
}

/** The value `source` gives in `history`, MISSING when the read it names is not there. */
function evaluate(source: Source, history: readonly Step[]): unknown {
  if (source.kind === 'constant') return source.value
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
    case 'anyRow': {
      const values = result.rows.map((row) => row[i])
      if (result.last !== undefined) values.push(result.last[i])
      return new AnyOf(values)
    }
  }
}

function holds(value: unknown, actual: unknown): boolean {
  if (value instanceof AnyOf) return value.values.some((candidate) => sameValue(candidate, actual))
  return sameValue(value, actual)
}

/** Every source in `history` that gives `actual` for slot `slot` of `next`. */
function discover(next: TemplatedQuery, slot: number, actual: unknown, history: readonly Step[], lookback: number): Source[] {
  const found: Source[] = []
  const constantText = stableText(actual)
  if (constantText.length <= MAX_CONSTANT_TEXT) found.push({ kind: 'constant', value: actual })
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
      for (const location of indexOf(step).get(key) ?? []) {
        if (location.kind === 'argument') {
          found.push({ kind: 'argument', lag, template, slot: location.slot })
          continue
        }
        const field = result!.fields[location.field]
        if (result!.single || location.row < POSITIONAL_ROWS) found.push({ kind: 'row', lag, template, row: location.row, field })
        if (!result!.single) anyRowFields.add(field)
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
function matchFields(result: ResultSummary, actual: unknown[]): string[] | undefined {
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

/** How the slot values of a next read are derived from a history. */
export interface Derivation {
  values: unknown[]
  /** The product of the chosen sources' confidences. */
  confidence: number
  /** Set when one slot is "any row" of a list and the template can be fetched as a batch. */
  fanOut?: { slot: number; lag: number; values: unknown[] }
}

function isUsable(evidence: Evidence, bounds: MappingBounds): boolean {
  return evidence.seen >= bounds.minSupport && evidence.held / evidence.seen >= bounds.minConfidence
}

function better(a: Evidence, b: Evidence): boolean {
  const ca = a.held / a.seen
  const cb = b.held / b.seen
  if (ca !== cb) return ca > cb
  if (RANK[a.source.kind] !== RANK[b.source.kind]) return RANK[a.source.kind] < RANK[b.source.kind]
  return ('lag' in a.source ? a.source.lag : 0) < ('lag' in b.source ? b.source.lag : 0)
}

/**
 * For every slot of every template, the sources its value came from and how often each held.
 * Only sources that held at least `minConfidence` of at least `minSupport` observations produce
 * arguments. Bounded by `maxTemplates` templates (least recently learned forgotten first) and
 * `maxSources` sources per slot (the one that held least often replaced).
 */
export class ArgumentMappings {
  private readonly templates = new Map<string, Evidence[][]>()

  constructor(private readonly bounds: MappingBounds) {}

  get size(): number {
    return this.templates.size
  }

  /** Learns where each slot value of `next` came from, given the history before it. */
  learn(next: TemplatedQuery, history: readonly Step[]): void {
    const id = next.template.id
    let slots = this.templates.get(id)
    if (slots === undefined) {
      if (this.templates.size >= this.bounds.maxTemplates) this.templates.delete(this.templates.keys().next().value as string)
      slots = next.values.map(() => [])
    } else {
      this.templates.delete(id)
    }
    this.templates.set(id, slots)
    next.values.forEach((actual, slot) => {
      const evidence = slots[slot]
      let anyHeld = false
      for (const item of evidence) {
        const value = evaluate(item.source, history)
        if (value === MISSING) continue
        item.seen++
        if (holds(value, actual)) {
          item.held++
          anyHeld = true
        }
        if (item.seen > this.bounds.agingLimit) {
          item.seen /= 2
          item.held /= 2
        }
      }
      // Look for new sources only when none of the known ones explained the value.
      if (anyHeld) return
      for (const source of discover(next, slot, actual, history, this.bounds.lookback)) {
        const key = keyOf(source)
        if (evidence.some((item) => item.key === key)) continue
        if (evidence.length >= this.bounds.maxSources) evidence.splice(weakest(evidence), 1)
        evidence.push({ source, key, held: 1, seen: 1 })
      }
    })
  }

  /**
   * The ways the slot values of `template` can be derived after `history`: with every slot from
   * its best usable source, and, for a single-row read by a unique field whose value came from
   * "any row" of a list, as a fan-out over that list's leading rows. Empty if neither is possible.
   */
  derive(template: Template, history: readonly Step[], strict = false): Derivation[] {
    const slots = this.templates.get(template.id)
    if (slots === undefined) return template.paths.length === 0 ? [{ values: [], confidence: 1 }] : []
    const fanOutPath = template.fanOutField === undefined ? undefined : `where.${template.fanOutField}`
    const values: unknown[] = []
    const confidences: number[] = []
    let fanOut: { slot: number; evidence: Evidence; values: unknown[] } | undefined
    for (let slot = 0; slot < slots.length; slot++) {
      let best: Evidence | undefined
      let bestValue: unknown
      let bestUsable: Evidence | undefined
      for (const item of slots[slot]) {
        if (!isUsable(item, this.bounds)) continue
        if (item.source.kind !== 'anyRow' && (bestUsable === undefined || better(item, bestUsable))) bestUsable = item
        if (item.source.kind === 'anyRow') {
          if (template.paths[slot] !== fanOutPath || (fanOut !== undefined && !better(item, fanOut.evidence))) continue
          const value = evaluate(item.source, history)
          if (value instanceof AnyOf) fanOut = { slot, evidence: item, values: value.values }
          continue
        }
        if (best !== undefined && !better(item, best)) continue
        const value = evaluate(item.source, history)
        if (value === MISSING) continue
        best = item
        bestValue = value
      }
      // Strict: a weaker source standing in for a better one not at hand yet would guess wrong.
      if (strict && best !== bestUsable) best = undefined
      // A slot without an exact source leaves only the fan-out, and only if it is that slot.
      if (best === undefined && fanOut?.slot !== slot) return []
      values.push(bestValue)
      confidences.push(best === undefined ? NaN : best.held / best.seen)
    }
    const product = (skip: number) => confidences.reduce((p, c, slot) => (slot === skip ? p : p * c), 1)
    const derivations: Derivation[] = []
    if (!confidences.some(Number.isNaN)) derivations.push({ values, confidence: product(-1) })
    if (fanOut !== undefined) {
      const distinct: unknown[] = []
      for (const value of fanOut.values) {
        if (matchKey(value) !== undefined && !distinct.some((seen) => sameValue(seen, value))) distinct.push(value)
      }
      if (distinct.length > 0) {
        const kept = distinct.slice(0, this.bounds.maxFanOut)
        const { slot, evidence } = fanOut
        derivations.push({
          values: values.map((value, i) => (i === slot ? undefined : value)),
          confidence: product(slot) * (evidence.held / evidence.seen) * (kept.length / distinct.length),
          fanOut: { slot, lag: (evidence.source as { lag: number }).lag, values: kept },
        })
      }
    }
    return derivations
  }

  /**
   * Adds evidence learned elsewhere for slot `slot` of a template with `slots` slots: counts of
   * a source already known here are added, a new source is kept if there is room.
   */
  merge(templateId: string, slots: number, slot: number, source: Source, held: number, seen: number): void {
    if (!(seen > 0) || !(held >= 0) || held > seen || slot < 0 || slot >= slots) return
    let evidence = this.templates.get(templateId)
    if (evidence === undefined) {
      if (this.templates.size >= this.bounds.maxTemplates) this.templates.delete(this.templates.keys().next().value as string)
      evidence = Array.from({ length: slots }, () => [])
      this.templates.set(templateId, evidence)
    }
    if (evidence.length !== slots) return
    const key = keyOf(source)
    const known = evidence[slot].find((item) => item.key === key)
    if (known !== undefined) {
      known.held += held
      known.seen += seen
    } else if (evidence[slot].length < this.bounds.maxSources) {
      evidence[slot].push({ source, key, held, seen })
    }
  }

  /** The sources learned for each slot of a template, best first (for reports). */
  evidence(templateId: string): readonly (readonly Evidence[])[] | undefined {
    return this.templates.get(templateId)
  }
}

/**
 * The source to replace: the one that held least often, then the least confident; between equals,
 * the least specific (so a read's many matches found at once keep its arguments and positional
 * rows rather than whichever were found last: "any row", which exact predictions never use).
 */
function weakest(evidence: readonly Evidence[]): number {
  let index = 0
  for (let i = 1; i < evidence.length; i++) {
    const a = evidence[i]
    const b = evidence[index]
    if (a.held !== b.held) {
      if (a.held < b.held) index = i
    } else if (a.held / a.seen !== b.held / b.seen) {
      if (a.held / a.seen < b.held / b.seen) index = i
    } else if (better(b, a)) index = i
  }
  return index
}
