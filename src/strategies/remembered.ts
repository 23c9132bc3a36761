/**
 * The whole-read memory put to use: what the followers of a read propose next to the derived
 * candidates, and the record of which was right when they differed, that decides which goes first.
 */

import type { LearnOptions } from '../types.ts'
import { covers } from './combine.ts'
import { DuelRecords, exactWins, FollowerMemory, followerProbability } from './followers.ts'
import type { Step } from './steps.ts'
import { instantiate, type TemplatedQuery, type TemplateTable } from './template.ts'
import type { NextTemplates } from './transitions.ts'
import type { Candidate, Query } from './types.ts'

type Settings = Required<Pick<LearnOptions, 'maxExactReads' | 'maxValues' | 'agingLimit' | 'maxArgumentContexts' | 'minSupport' | 'maxAlternatives'>>

export class RememberedReads {
  /** The whole reads that followed each exact read. */
  private readonly followers: FollowerMemory
  /** Per transition, whether the memory's best follower or the derived best was right more often when they differed. */
  private readonly duels: DuelRecords

  constructor(
    private readonly settings: Settings,
    private readonly templates: TemplateTable,
  ) {
    this.followers = new FollowerMemory(settings)
    this.duels = new DuelRecords(settings.maxArgumentContexts, settings.agingLimit)
  }

  /** Learns that `step` (of `query`, `templated`) followed `last`, and settles the disagreement `last` held. */
  learn(last: Step, step: Step, templated: TemplatedQuery, query: Query): void {
    if (last.duel !== undefined) {
      this.duels.settle(last.duel, step.key, query)
      last.duel = undefined
    }
    if (last.key !== undefined && step.key !== undefined) this.followers.learn(last.key, step.key, templated.template.id, templated.values)
  }

  /**
   * Adds to `candidates` the whole reads that followed the `observed` read before, each with its
   * share of them by Laplace's rule (a follower seen once of once is no certainty), those under
   * `minProbability` left out as ranking would drop them. When the memory's best follower is not
   * the best derived candidate, the disagreement is kept on `observed`, to be settled by the
   * session's next read; where the memory's has been right more often on this transition, it
   * goes first, as likely as the candidate it was right more often than.
   */
  propose(observed: Step, next: NextTemplates | undefined, candidates: Candidate[], keys: (string | undefined)[], minProbability: number): void {
    const found = this.followers.followers(observed.key!)
    if (found === undefined) return
    // The memory's best follower (the most counted, the first of equals), and the best derived read.
    let bestKey: string | undefined
    let bestCount = 0
    for (const [followerKey, { count }] of found.next) {
      if (count > bestCount) {
        bestKey = followerKey
        bestCount = count
      }
    }
    const derived = candidates.length > 0 ? candidates[0] : undefined
    const derivedKey = keys.length > 0 ? keys[0] : undefined
    // A fan-out is right when the next read is one of its rows.
    const against = derived?.fanOut !== undefined ? derived : derivedKey
    let best: Candidate | undefined
    for (const [followerKey, { template: id, values, count }] of found.next) {
      // No likelier than its template after the whole context (the memory is of the last read only).
      const share = followerProbability(count, found.total)
      const probability = next === undefined ? share : Math.min(share, next.probabilities.get(id) ?? 0)
      if (!(probability >= minProbability) || probability <= 0) continue
      // A read proposed already is made as likely as the memory has it, not proposed twice.
      const known = keys.indexOf(followerKey)
      if (known >= 0) {
        if (probability > candidates[known].probability) candidates[known].probability = probability
        if (followerKey === bestKey) best = candidates[known]
        continue
      }
      const candidate = this.candidateOf(id, values, probability, candidates)
      if (candidate === undefined) continue
      candidates.push(candidate)
      if (followerKey === bestKey) best = candidate
    }
    if (bestKey !== undefined && derived !== undefined && against !== undefined && bestKey !== derivedKey) {
      const follower = found.next.get(bestKey)!
      const record = this.duels.of(observed.template.id, follower.template)
      const wins = exactWins(record, this.settings.minSupport)
      // Built only to be proposed, or to tell a row of the fan-out (no disagreement) from another read.
      let proposed = best
      if (proposed === undefined && (wins || derived.fanOut !== undefined)) proposed = this.candidateOf(follower.template, follower.values, derived.probability, candidates)
      if (proposed !== undefined || derived.fanOut === undefined) observed.duel = { record, exact: bestKey, derived: against }
      // Where the memory has been right more often: its best follower first, before the derived
      // read (ranking's sort is stable: equals keep their order), even one seen once.
      if (wins && proposed !== undefined) {
        if (best === undefined) candidates.push(proposed)
        if (proposed.probability < derived.probability) proposed.probability = derived.probability
        candidates.splice(candidates.indexOf(proposed), 1)
        candidates.unshift(proposed)
      }
    }
    // At most `maxAlternatives` in all, the most probable (a stable sort: equals keep their order).
    if (candidates.length > this.settings.maxAlternatives) {
      candidates.sort((a, b) => b.probability - a.probability)
      candidates.length = this.settings.maxAlternatives
    }
  }

  /** The candidate of a remembered read of template `id` with slot values `values`; undefined when the template is gone or a fan-out among `candidates` fetches its row. */
  private candidateOf(id: string, values: readonly unknown[], probability: number, candidates: readonly Candidate[]): Candidate | undefined {
    const template = this.templates.get(id)
    if (template === undefined || template.paths.length !== values.length) return undefined
    const candidate: Candidate = { query: { model: template.model, operation: template.operation, args: instantiate(template, values as unknown[]) }, probability, strategy: 'transitions' }
    // Nor a row a fan-out proposed fetches already.
    return candidates.some((fanOut) => fanOut.fanOut !== undefined && covers(fanOut, candidate)) ? undefined : candidate
  }

  sizes() {
    return { exactReads: this.followers.size, exactFollowers: this.followers.widest(), duelRecords: this.duels.size }
  }
}
