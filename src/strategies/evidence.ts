/**
 * How the evidence of argument mappings is weighed: a source's record (how often it held), a
 * slot's value memory (the values it had, counted), which source is better or weakest, and the
 * ranked alternatives a slot may take.
 */

import { valueText } from '../canonical.ts'
import { MAX_CONSTANT_TEXT, RANK, type Source } from './sources.ts'
import { matchKey, sameValue } from './values.ts'

/** How often a source held for a slot: it gave the slot's actual value `held` of `seen` times. */
export interface Evidence {
  source: Source
  key: string
  held: number
  seen: number
  /**
   * Of the observations where it gave another value than the slot's usual one (the value it had
   * at least half the time), how many (`apart`) and how often it held then (`lone`): a source
   * that mostly agrees with a constant has earned nothing by it when it disagrees. Undefined for
   * evidence merged from another process (which does not share them).
   */
  apart?: number
  lone?: number
}

/**
 * The values a slot had, counted: the most frequent kept (at most `maxValues`, the rarest replaced
 * by a new one), halved with the other counts when their total passes `agingLimit`.
 */
export interface ValueCounts {
  total: number
  counts: Map<string, { value: unknown; count: number }>
  /** The most frequent entry of `counts` (kept as they change). */
  top?: { value: unknown; count: number }
}

/** The value a slot had at least half the time, if one did. */
export function usual(values: ValueCounts): { value: unknown } | undefined {
  const top = values.top
  return top !== undefined && top.count >= values.total / 2 ? top : undefined
}

/**
 * The probability that `evidence`'s source gives the slot's value when it gives `value`: its
 * share of observations held, or, when `value` is not the slot's usual one, its share held of
 * those where it gave another value than the usual one (under `minSupport` of them, by Laplace's
 * rule, so one lucky match is not a certainty).
 */
export function confidenceOf(evidence: Evidence, value: unknown, values: ValueCounts, minSupport: number, holds: (value: unknown, actual: unknown) => boolean): number {
  const confidence = evidence.held / evidence.seen
  if (evidence.apart === undefined) return confidence
  const common = usual(values)
  if (common === undefined || holds(value, common.value)) return confidence
  // Laplace's rule of succession: a source seen once apart and right is not yet a certainty.
  return evidence.apart >= minSupport ? Math.min(confidence, evidence.lone! / evidence.apart) : Math.min(confidence, (evidence.lone! + 1) / (evidence.apart + 2))
}

/** What is learned of one slot: where its value came from, and which values it had. */
export interface SlotModel {
  sources: Evidence[]
  values: ValueCounts
}

/** A value a slot may take, with its probability; `rank` orders equals (the most specific source first). */
export interface Alternative {
  value: unknown
  probability: number
  rank: number
}

/** The text a value is counted under in a value memory, or undefined for one too long to keep. */
function valueKey(value: unknown): string | undefined {
  const key = matchKey(value)
  if (key !== undefined) return key
  const text = valueText(value)
  return text.length <= MAX_CONSTANT_TEXT ? `=${text}` : undefined
}

/** Whether a source has held often enough, of enough observations, to be used. */
export function isUsable(evidence: Evidence, bounds: { minSupport: number; minConfidence: number }): boolean {
  return evidence.seen >= bounds.minSupport && evidence.held / evidence.seen >= bounds.minConfidence
}

/** Whether `a` is a better source than `b`: more confident, then more specific, then nearer. */
export function better(a: Evidence, b: Evidence): boolean {
  const ca = a.held / a.seen
  const cb = b.held / b.seen
  if (ca !== cb) return ca > cb
  if (RANK[a.source.kind] !== RANK[b.source.kind]) return RANK[a.source.kind] < RANK[b.source.kind]
  return ('lag' in a.source ? a.source.lag : 0) < ('lag' in b.source ? b.source.lag : 0)
}

/** Times a value must have been seen to be proposed. */
export const MIN_VALUE_COUNT = 2

/** The bounds of a value memory. */
export interface ValueBounds {
  /** Concrete values remembered per slot. */
  maxValues: number
  /** Halve the counts when their total passes this. */
  agingLimit: number
}

/** The key of the least counted entry of `counts` (the first of equals), undefined when it is empty. */
export function rarestKey(counts: ReadonlyMap<string, { count: number }>): string | undefined {
  let rarest: string | undefined
  let least = Infinity
  for (const [k, { count }] of counts) {
    if (count < least) {
      least = count
      rarest = k
    }
  }
  return rarest
}

/** Counts `actual` among the values of a slot (see `ValueCounts`). */
export function countValue(values: ValueCounts, actual: unknown, bounds: ValueBounds, weight = 1): void {
  const key = valueKey(actual)
  values.total += weight
  if (key !== undefined) {
    const known = values.counts.get(key)
    if (known !== undefined) {
      known.count += weight
      if (values.top === undefined || known.count > values.top.count) values.top = known
    } else {
      if (values.counts.size >= bounds.maxValues) {
        const rarest = rarestKey(values.counts)
        if (values.counts.get(rarest!) === values.top) values.top = undefined
        values.counts.delete(rarest!)
      }
      const entry = { value: actual, count: weight }
      values.counts.set(key, entry)
      if (values.top === undefined || entry.count > values.top.count) values.top = entry
    }
  }
  if (values.total > bounds.agingLimit) {
    values.total /= 2
    for (const [k, entry] of values.counts) {
      entry.count /= 2
      if (entry.count < 0.5) {
        values.counts.delete(k)
        if (entry === values.top) values.top = undefined
      }
    }
  }
}

/** Adds `value` to `alternatives`, or raises its probability if it is there already. */
export function offer(alternatives: Alternative[], value: unknown, probability: number, rank: number): void {
  for (const known of alternatives) {
    if (sameValue(known.value, value)) {
      if (probability > known.probability || (probability === known.probability && rank < known.rank)) {
        known.probability = probability
        known.rank = rank
      }
      return
    }
  }
  alternatives.push({ value, probability, rank })
}

/**
 * The source to replace: the one that held least often, then the least confident; between equals,
 * the least specific (so a read's many matches found at once keep its arguments and positional
 * rows rather than whichever were found last: "any row", which exact predictions never use).
 */
export function weakest(evidence: readonly Evidence[]): number {
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

