/**
 * The learner against a known answer: TPC-W browsing sessions are walks over a published
 * transition matrix, so a first-order model learned from their page sequences must give back
 * that matrix. Each page is shown to the learner as one read (`HOME.findMany{}`, ...), and the
 * first-order transitions of `describe()` are compared with the matrix, entry by entry.
 *
 * Two choices make this a check of the estimator rather than of the test's own bookkeeping:
 *
 * - Sessions are fed end to end as ONE learner session. The generator (bench/workloads/sessions.ts)
 *   ends a session at its first move to HOME after the minimum length, and that HOME opens the
 *   next session: laid end to end, the sessions are one unbroken walk over the matrix. Fed as
 *   separate sessions, the closing move of every session (always one to HOME) would never be
 *   seen, and every row would under-count its HOME entry (SRES -> HOME, for one, comes out more
 *   than 0.05 low): a bias of the feeding, not of the learner.
 * - Aging is switched off in the main check (`agingLimit` above the number of reads, so no
 *   context's counts are ever halved): the learned probabilities are then exactly the empirical
 *   transition frequencies, the maximum-likelihood estimate whose sampling error we can bound.
 *   With aging (default `agingLimit` 1000) the counts of a busy context are halved again and
 *   again, so its estimate rests on a weighted window of recent observations, not on all of
 *   them, however long the run: the second test checks the default with that smaller sample.
 */
import { describe, expect, it } from 'vitest'
import { TPCW_PAGES } from '../../bench/workloads/data.ts'
import { matrixOf, planSession } from '../../bench/workloads/sessions.ts'
import { DEFAULTS } from '../../src/options.ts'
import { LearnedPredictor, type LearnSettings } from '../../src/strategies/learner.ts'

const SEED = 1
/** Sessions of the walk: about 130,000 pages, about a second of learning. */
const SESSIONS = 8000
const TOLERANCE = 0.05
/** Largest accepted chance that one entry's sample frequency strays TOLERANCE from its probability. */
const MAX_STRAY_CHANCE = 1e-4
/** More than the number of transitions a 14-page first- and second-order model can hold. */
const DESCRIBE_LIMIT = 100_000
const PAGE_MS = 1000

const matrix = matrixOf('tpcw-browsing')
const shapeOf = (page: string) => `${page}.findMany{}`

/** The published rows, normalised as the session generator draws from them (a few sum to 0.9999). */
const published = new Map(
  matrix.from.map((from, i) => {
    const sum = matrix.probs[i].reduce((a, b) => a + b, 0)
    return [from, new Map(matrix.to.map((to, j) => [to, matrix.probs[i][j] / sum]))] as const
  }),
)

/** Sessions 0, 1, 2... of the benchmark's run, laid end to end. */
const walk: string[] = []
for (let index = 0; index < SESSIONS; index++) walk.push(...planSession('tpcw-browsing', index, { seed: SEED }).pages)

/** How often each page was left for another (every visit but the walk's last). */
const visits = new Map<string, number>()
const counted = new Map<string, number>()
for (let i = 0; i + 1 < walk.length; i++) {
  visits.set(walk[i], (visits.get(walk[i]) ?? 0) + 1)
  const pair = `${walk[i]}>${walk[i + 1]}`
  counted.set(pair, (counted.get(pair) ?? 0) + 1)
}

/** Learns the walk, one read per page, one second apart; returns the first-order probabilities. */
function learn(pages: readonly string[], overrides: Partial<LearnSettings>): Map<string, Map<string, number>> {
  const predictor = new LearnedPredictor({ ...DEFAULTS.learn, ...overrides })
  let at = 0
  for (const page of pages) {
    predictor.observe({ session: { sessionId: 'walk' }, query: { model: page, operation: 'findMany', args: {}, result: [] }, at: (at += PAGE_MS) })
  }
  const { transitions } = predictor.describe(DESCRIBE_LIMIT)
  expect(transitions.length).toBeLessThan(DESCRIBE_LIMIT)
  const learned = new Map<string, Map<string, number>>()
  for (const { after, next, probability } of transitions) {
    if (after.length !== 1) continue
    const from = after[0].replace(/\.findMany\{\}$/, '')
    const to = next.replace(/\.findMany\{\}$/, '')
    expect([after[0], next]).toEqual([shapeOf(from), shapeOf(to)])
    if (!learned.has(from)) learned.set(from, new Map())
    learned.get(from)!.set(to, probability)
  }
  return learned
}

/**
 * Bernstein's inequality: the chance that the frequency of an outcome of probability `p` over `n`
 * independent draws strays at least `t` from `p` is at most 2 exp(-n t^2 / (2 p (1 - p) + 2 t / 3)).
 * It holds for any `p` (no normal approximation, so it is sound for the rare entries too), and it
 * applies to a Markov walk row by row: given the number of visits to a page, the moves out of it
 * are independent draws from its row.
 */
const strayChance = (n: number, p: number, t: number) => 2 * Math.exp((-n * t * t) / (2 * p * (1 - p) + (2 * t) / 3))

/**
 * The rows with enough visits: those where, for every entry (zeros included, so that a learned
 * transition the matrix does not have is caught too), the chance of straying TOLERANCE is at most
 * MAX_STRAY_CHANCE given `sampleOf(visits)` draws. With about 150 entries checked, a correct
 * learner fails by bad luck with a chance of 1.5% at most, and the seed is fixed, so it never
 * flakes; a learner off by more than TOLERANCE on a checked entry always fails.
 */
function checkedRows(sampleOf: (visits: number) => number): string[] {
  return TPCW_PAGES.filter((page) => {
    const n = sampleOf(visits.get(page) ?? 0)
    return n > 0 && [...published.get(page)!.values()].every((p) => strayChance(n, p, TOLERANCE) <= MAX_STRAY_CHANCE)
  })
}

/** Every [from, to, published, learned] of the checked rows that is more than TOLERANCE apart. */
function misses(rows: readonly string[], learned: Map<string, Map<string, number>>): [string, string, number, number][] {
  const out: [string, string, number, number][] = []
  for (const from of rows) {
    const row = learned.get(from) ?? new Map<string, number>()
    for (const to of row.keys()) expect(matrix.to).toContain(to)
    for (const [to, p] of published.get(from)!) {
      const q = row.get(to) ?? 0
      if (Math.abs(p - q) > TOLERANCE) out.push([from, to, p, q])
    }
  }
  return out
}

describe('LearnedPredictor on TPC-W browsing sessions', () => {
  it('learns the published transition matrix: every entry of every well-visited row within 0.05', () => {
    const learned = learn(walk, { agingLimit: Number.MAX_SAFE_INTEGER })

    // Without aging the learned probabilities are the empirical frequencies of the walk, exactly.
    for (const [from, row] of learned) {
      for (const [to, probability] of row) expect(probability).toBeCloseTo((counted.get(`${from}>${to}`) ?? 0) / visits.get(from)!, 12)
    }
    for (const pair of counted.keys()) {
      const [from, to] = pair.split('>')
      expect(learned.get(from)?.has(to)).toBe(true)
    }

    const rows = checkedRows((n) => n)
    // HOME, NEWP, BESS, PROD, SREQ, SRES, SHOP (the bulk of the walk) and the checkout pages CREG,
    // BUYR, BUYC; the admin and order pages are visited too rarely to pin their rows to 0.05.
    expect(rows.length).toBeGreaterThanOrEqual(9)
    expect(rows).toEqual(expect.arrayContaining(['HOME', 'NEWP', 'BESS', 'PROD', 'SREQ', 'SRES', 'SHOP']))
    expect(misses(rows, learned)).toEqual([])
  })

  it('stays within 0.05 with the default aging, on the rows its shorter memory can pin down', () => {
    const { agingLimit } = DEFAULTS.learn
    const learned = learn(walk, {})
    // Once a context has passed agingLimit, its latest observations count fully and older ones by
    // halves, quarters...: the estimate is a weighted frequency whose variance is that of about
    // 4/3 to 3/2 agingLimit independent draws (Kish's effective sample size over the halving
    // cycle), however long the walk. The bound is given agingLimit draws, a little less than that.
    const rows = checkedRows((n) => Math.min(n, agingLimit))
    expect(rows).toEqual(expect.arrayContaining(['NEWP', 'SREQ']))
    expect(misses(rows, learned)).toEqual([])
  })
})
