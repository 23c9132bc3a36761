/**
 * The learner told the probability below which ranking drops candidates (`minProbability`)
 * leaves those out without building them: what comes out of ranking is the same as when it is
 * not told, read for read, on the synthetic workloads (observe, anticipate and follow alike).
 */
import { describe, expect, it } from 'vitest'
import { SYNTHETIC_WORKLOADS, syntheticSession } from '../../bench/workloads/synthetic.ts'
import { valueText } from '../../src/canonical.ts'
import { DEFAULTS } from '../../src/options.ts'
import { rank } from '../../src/strategies/combine.ts'
import { LearnedPredictor } from '../../src/strategies/learner.ts'
import type { Candidate } from '../../src/strategies/types.ts'

const described = (candidates: readonly Candidate[]) =>
  candidates.map((c) => ({
    key: `${c.query.model}.${c.query.operation}${valueText(c.query.args)}`,
    probability: c.probability,
    strategy: c.strategy,
    rows: c.fanOut === undefined ? undefined : c.fanOut.values.map((value) => valueText(c.fanOut!.argsFor(value))),
  }))

describe('predicting with the ranking threshold', () => {
  for (const name of SYNTHETIC_WORKLOADS) {
    it(`${name}: ranks the same candidates as predicting everything, at every threshold`, { timeout: 120_000 }, () => {
      for (const minProbability of [0.1, 0.4]) {
        const ranking = { minProbability, maxPerTrigger: DEFAULTS.maxPerTrigger }
        const told = new LearnedPredictor({ ...DEFAULTS.learn })
        const untold = new LearnedPredictor({ ...DEFAULTS.learn })
        let at = 0
        let compared = 0
        let proposed = 0
        for (let s = 0; compared < 300; s++) {
          const session = { sessionId: `s${s}`, userId: `u${s % 7}` }
          for (const read of syntheticSession(name, s, 3).reads) {
            at += 10
            const event = { session, query: read, at }
            const started = rank(told.anticipate({ ...event, query: { ...read, result: undefined }, minProbability }), ranking)
            expect(described(started)).toEqual(described(rank(untold.anticipate({ ...event, query: { ...read, result: undefined } }), ranking)))
            const observed = rank(told.observe({ ...event, minProbability }), ranking)
            const all = rank(untold.observe(event), ranking)
            expect(described(observed)).toEqual(described(all))
            for (const candidate of observed.slice(0, 2)) {
              const chain = [{ ...candidate.query, result: undefined }]
              const floor = minProbability / candidate.probability
              expect(described(rank(told.follow(session, chain, at, floor), { ...ranking, minProbability: floor }))).toEqual(
                described(rank(untold.follow(session, chain, at), { ...ranking, minProbability: floor })),
              )
            }
            compared++
            proposed += observed.length
          }
        }
        expect(compared).toBeGreaterThanOrEqual(300)
        // The workload is predictable: candidates above the threshold are proposed.
        expect(proposed).toBeGreaterThan(compared / 4)
      }
    })
  }
})
