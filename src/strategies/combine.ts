/**
 * Merges the candidates of every predictor into one ranked list, deduplicated by the canonical
 * text of their arguments.
 */

import { argsText } from '../canonical.ts'
import type { Candidate, ObservedQuery, Predictor, Query, ReadEvent, SessionRef } from './types.ts'

export interface Ranking {
  /** Candidates below this probability are dropped. */
  minProbability: number
  /** At most this many candidates per read. */
  maxPerTrigger: number
}

/**
 * Merges the candidates of several strategies into one ranked list: the same query proposed
 * twice keeps its highest probability (and that strategy); most probable first; those under
 * `minProbability` dropped; at most `maxPerTrigger`.
 */
export function rank(candidates: readonly Candidate[], ranking: Ranking): Candidate[] {
  if (candidates.length === 0) return []
  if (candidates.length === 1) return candidates[0].probability >= ranking.minProbability ? [candidates[0]] : []
  const best = new Map<string, Candidate>()
  for (const candidate of candidates) {
    if (!(candidate.probability >= ranking.minProbability)) continue
    const { model, operation, args } = candidate.query
    // Candidates whose select or include differ only in order are different reads.
    const key = `${model}.${operation}${argsText(args)}`
    const seen = best.get(key)
    if (seen === undefined || candidate.probability > seen.probability) best.set(key, candidate)
  }
  const sorted = [...best.values()].sort((a, b) => b.probability - a.probability)
  const out: Candidate[] = []
  for (const candidate of sorted) {
    if (out.length >= ranking.maxPerTrigger) break
    // A single-row read a fan-out ranked above it fetches already would waste a place.
    if (candidate.fanOut === undefined && out.some((above) => covers(above, candidate))) continue
    out.push(candidate)
  }
  return out
}

/** Whether `fanOut`'s batch holds the row `single` reads: the same read, for one of its values. */
export function covers(fanOut: Candidate, single: Candidate): boolean {
  return fetches(fanOut, single.query)
}

/** Whether `fanOut`'s batch holds the row the read `query` reads: the same read, for one of its values. */
export function fetches(fanOut: Candidate, query: Query): boolean {
  const spec = fanOut.fanOut
  if (spec === undefined || query.model !== fanOut.query.model || query.operation !== spec.operation) return false
  const where = query.args.where
  if (where === null || typeof where !== 'object') return false
  const value = (where as Record<string, unknown>)[spec.field]
  if (value === undefined || value === null || typeof value === 'object') return false
  if (!spec.values.some((row) => row === value)) return false
  return argsText(spec.argsFor(value)) === argsText(query.args)
}

/**
 * Runs every predictor on a read (`observe` when it completed, `anticipate` when it has only
 * started); one that throws proposes nothing and is reported.
 */
export function predict(
  predictors: readonly Predictor[],
  event: ReadEvent,
  ranking: Ranking,
  reportError: (error: unknown, predictor: Predictor) => void,
  phase: 'observe' | 'anticipate' = 'observe',
): Candidate[] {
  const all: Candidate[] = []
  // Predictors may leave out what ranking would drop.
  const ranked: ReadEvent = event.minProbability === undefined ? { ...event, minProbability: ranking.minProbability } : event
  for (const predictor of predictors) {
    try {
      if (phase === 'observe') all.push(...predictor.observe(ranked))
      else if (predictor.anticipate !== undefined) all.push(...predictor.anticipate(ranked))
    } catch (error) {
      reportError(error, predictor)
    }
  }
  return rank(all, ranking)
}

/**
 * Runs every predictor that can on a chain of speculative reads (see `Predictor.follow`); one
 * that throws proposes nothing and is reported.
 */
export function predictFollowers(
  predictors: readonly Predictor[],
  session: SessionRef | undefined,
  chain: readonly ObservedQuery[],
  at: number,
  ranking: Ranking,
  reportError: (error: unknown, predictor: Predictor) => void,
): Candidate[] {
  const all: Candidate[] = []
  for (const predictor of predictors) {
    try {
      if (predictor.follow !== undefined) all.push(...predictor.follow(session, chain, at, ranking.minProbability))
    } catch (error) {
      reportError(error, predictor)
    }
  }
  return rank(all, ranking)
}
