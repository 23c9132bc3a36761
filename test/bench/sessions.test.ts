import { describe, expect, it } from 'vitest'
import { BACK, loadTpcwPublishedMix, RUBIS_PAGES, STAY, TPCW_PAGES, type TransitionMatrix } from '../../bench/workloads/data.ts'
import { Rng } from '../../bench/workloads/random.ts'
import {
  matrixOf,
  pageMix,
  paramRng,
  planSession,
  rubisStationaryMix,
  stationaryDistribution,
  tpcwMeanSessionPages,
  tpcwStationaryMix,
  type Workload,
} from '../../bench/workloads/sessions.ts'

const published = loadTpcwPublishedMix()

/** The pages of sessions 0, 1, 2... laid end to end, until there are at least `min` pages. */
function pagesOfRun(workload: Workload, min: number, seed = 1): { pages: string[]; sessions: number } {
  const pages: string[] = []
  let sessions = 0
  while (pages.length < min) pages.push(...planSession(workload, sessions++, { seed }).pages)
  return { pages, sessions }
}

/** Largest absolute difference, in percentage points, between two page mixes given in percent. */
function maxGapPoints(actual: Record<string, number>, expected: Record<string, number>): number {
  const pages = new Set([...Object.keys(actual), ...Object.keys(expected)])
  return Math.max(...[...pages].map((page) => Math.abs((actual[page] ?? 0) - (expected[page] ?? 0))))
}

const percent = (mix: Record<string, number>) => Object.fromEntries(Object.entries(mix).map(([page, share]) => [page, 100 * share]))

describe('stationaryDistribution', () => {
  it('solves a small chain exactly and leaves transient states at 0', () => {
    // 0 -> 1 always; 1 <-> 2 with known balance: pi1 * 0.5 = pi2 * 0.25 -> pi = (0, 1/3, 2/3).
    const pi = stationaryDistribution([
      [0, 1, 0],
      [0, 0.5, 0.5],
      [0, 0.25, 0.75],
    ])
    expect(pi[0]).toBeCloseTo(0, 12)
    expect(pi[1]).toBeCloseTo(1 / 3, 10)
    expect(pi[2]).toBeCloseTo(2 / 3, 10)
  })

  it('handles a periodic chain (it iterates the lazy chain)', () => {
    const pi = stationaryDistribution([
      [0, 1],
      [1, 0],
    ])
    expect(pi[0]).toBeCloseTo(0.5, 10)
  })
})

describe.each([
  ['tpcw-browsing', 'browsing'],
  ['tpcw-shopping', 'shopping'],
] as const)('TPC-W %s', (workload, mix) => {
  const matrix = matrixOf(workload)

  it('has the published mix as the stationary distribution of its matrix', () => {
    // The published mix has two decimals, so 0.005 points of rounding; the matrix's own
    // four-decimal rounding adds a little: 0.0044 points at most here.
    expect(maxGapPoints(percent(tpcwStationaryMix(matrix)), published[mix])).toBeLessThan(0.01)
  })

  it('generates sessions whose long-run page mix is the published mix within 0.5 points per page', () => {
    const { pages } = pagesOfRun(workload, 200_000)
    const generated = percent(pageMix(pages))
    expect(Object.keys(generated).sort()).toEqual([...TPCW_PAGES].sort())
    expect(maxGapPoints(generated, published[mix])).toBeLessThan(0.5)
  })

  it('starts every session at HOME and only takes transitions the matrix allows', () => {
    for (let index = 0; index < 300; index++) {
      const { pages } = planSession(workload, index)
      expect(pages[0]).toBe('HOME')
      for (let i = 1; i < pages.length; i++) expect(probability(matrix, pages[i - 1], pages[i])).toBeGreaterThan(0)
    }
  })

  it('makes sessions of the stated length: a geometric minimum, then up to the next HOME', () => {
    const { pages, sessions } = pagesOfRun(workload, 100_000)
    const mean = pages.length / sessions
    expect(mean).toBeGreaterThan(15)
    expect(Math.abs(mean - tpcwMeanSessionPages(matrix)) / mean).toBeLessThan(0.05)
    let total = 0
    let count = 0
    for (; total < 100_000; count++) total += planSession(workload, count, { meanMinPages: 30 }).pages.length
    expect(total / count).toBeGreaterThan(mean + 10)
  })
})

describe('RUBiS bidding', () => {
  const matrix = matrixOf('rubis-bidding')

  it('generates sessions whose long-run page mix is the stationary distribution of its matrix (with BACK)', () => {
    const stationary = percent(rubisStationaryMix(matrix))
    expect(Object.values(stationary).reduce((a, b) => a + b, 0)).toBeCloseTo(100, 6)
    const { pages } = pagesOfRun('rubis-bidding', 200_000)
    expect(maxGapPoints(percent(pageMix(pages)), stationary)).toBeLessThan(0.3)
  })

  it('starts at Home, moves only along the matrix, and goes BACK to the page before', () => {
    const back = matrix.to.indexOf(BACK)
    let backs = 0
    for (let index = 0; index < 300; index++) {
      const { pages } = planSession('rubis-bidding', index)
      expect(pages[0]).toBe('Home')
      expect(pages.length).toBeLessThanOrEqual(1000)
      for (let i = 1; i < pages.length; i++) {
        const [from, to] = [pages[i - 1], pages[i]]
        const row = matrix.probs[matrix.from.indexOf(from)]
        const direct = probability(matrix, from, to) > 0 || (from === to && row[matrix.to.indexOf(STAY)] > 0)
        if (!direct) {
          // Only BACK explains it: the page left must allow BACK, and `to` was visited before.
          expect(row[back]).toBeGreaterThan(0)
          expect(pages.slice(0, i - 1)).toContain(to)
          backs++
        }
      }
    }
    expect(backs).toBeGreaterThan(100)
  })

  it('reaches the pages the matrix can reach', () => {
    const { pages } = pagesOfRun('rubis-bidding', 50_000)
    const stationary = rubisStationaryMix(matrix)
    for (const page of RUBIS_PAGES) expect(pages.includes(page)).toBe(stationary[page] > 0)
  })
})

describe('determinism', () => {
  it('gives the same sessions for the same seed, whatever else was planned before', () => {
    for (const workload of ['tpcw-browsing', 'tpcw-shopping', 'rubis-bidding'] as const) {
      const later = planSession(workload, 41, { seed: 7 })
      for (let i = 0; i < 41; i++) planSession(workload, i, { seed: 7 })
      expect(planSession(workload, 41, { seed: 7 })).toEqual(later)
      const other = Array.from({ length: 5 }, (_, i) => planSession(workload, 41 + i, { seed: 8 }).pages)
      expect(other).not.toEqual(Array.from({ length: 5 }, (_, i) => planSession(workload, 41 + i, { seed: 7 }).pages))
    }
  })

  it('replays the same page parameters for a session at every call', () => {
    const plan = planSession('tpcw-shopping', 3, { seed: 5 })
    const draw = () => {
      const rng = paramRng(plan)
      return Array.from({ length: 20 }, () => rng.nextUint32())
    }
    expect(draw()).toEqual(draw())
    expect(draw()).not.toEqual(Array.from({ length: 20 }, ((rng) => () => rng.nextUint32())(paramRng({ ...plan, index: 4 }))))
  })

  it('draws uniformly (a sanity check of the generator)', () => {
    const rng = new Rng(123)
    const counts = new Array(10).fill(0)
    for (let i = 0; i < 100_000; i++) counts[rng.int(10)]++
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500)
    const nurand = Array.from({ length: 10_000 }, () => rng.nurand(63, 0, 100))
    expect(Math.min(...nurand)).toBe(0)
    expect(Math.max(...nurand)).toBe(100)
  })
})

function probability(matrix: TransitionMatrix, from: string, to: string): number {
  const i = matrix.from.indexOf(from)
  const j = matrix.to.indexOf(to)
  if (i < 0 || j < 0) throw new Error(`${matrix.name}: unknown transition ${from} -> ${to}`)
  return matrix.probs[i][j]
}

describe('blog workloads', () => {
  it('blog-views and blog-views-readonly play the same pages with the same parameters', () => {
    for (let index = 0; index < 20; index++) {
      const views = planSession('blog-views', index, { seed: 3 })
      const readonly = planSession('blog-views-readonly', index, { seed: 3 })
      expect(views.pages).toEqual(readonly.pages)
      expect(views.pages[0]).toBe('home')
      const a = paramRng(views)
      const b = paramRng(readonly)
      for (let k = 0; k < 10; k++) expect(a.float()).toBe(b.float())
    }
    expect(new Set(Array.from({ length: 20 }, (_, i) => planSession('blog-views', i).pages.join())).size).toBeGreaterThan(1)
  })
})
