/**
 * Seeded user sessions: walks over the published matrices (bench/workloads/data) that yield the
 * pages one emulated user visits, and the stationary page mix of each matrix.
 *
 * TPC-W. A session starts at INIT (which always leads to HOME) and has a minimum length drawn
 * from a geometric distribution with mean `meanMinPages` (15 by default, the low end of the
 * 15-20 pages the workload notes suggest). Like the reference emulated browser, whose session
 * ends once its minimum duration has passed *and* the next transition leads HOME, a session here
 * ends at the first transition to HOME after the minimum: that HOME becomes the first page of the
 * next session. Sessions laid end to end are therefore one unbroken walk over the matrix, and the
 * long-run page mix is exactly the matrix's stationary distribution (cutting sessions at arbitrary
 * points and restarting at HOME would add HOME visits and bias the mix). Session lengths come out
 * at the minimum plus the wait for the next HOME: 16.7 pages on average for the browsing mix and
 * 19.2 for the shopping mix (`tpcwMeanSessionPages` estimates it).
 *
 * RUBiS. A session starts at Home and runs until END_OF_SESSION, or `maxPages` pages (the RUBiS
 * client's cap, 1,000; sessions average 51 pages). BACK, STAY and the history stack behave as in the RUBiS client: entering
 * a page whose row has no BACK probability clears the history, entering one that has pushes the
 * page being left; BACK pops the previous page and visits it again (the client requests it anew);
 * STAY reloads the current page, which counts as entering it. The page mix of such a walk is not
 * the stationary distribution of the 27x27 matrix itself (BACK depends on the history), so
 * `rubisStationaryMix` computes it exactly on the chain of (page, history) pairs.
 */
import {
  BACK,
  END_OF_SESSION,
  loadMatrix,
  RUBIS_PAGES,
  STAY,
  TPCW_PAGES,
  type MatrixName,
  type RubisPage,
  type TpcwPage,
  type TransitionMatrix,
} from './data.ts'
import { BLOG_FAMILY, blogSessionPages, type BlogWorkload } from './blog.ts'
import { Rng } from './random.ts'

/** A workload whose sessions are planned here: a published matrix's, or a blog workload's. */
export type Workload = MatrixName | BlogWorkload

/** The name a session's random streams are drawn under: the two blog workloads share theirs. */
function familyOf(workload: Workload): string {
  return workload === 'blog-views' || workload === 'blog-views-readonly' ? BLOG_FAMILY : workload
}

/** Draws next states from a matrix: one cumulative row per `from` state. */
class RowSampler {
  private readonly cumulative: Float64Array[]
  private readonly fromIndex: Map<string, number>

  constructor(readonly matrix: TransitionMatrix) {
    this.fromIndex = new Map(matrix.from.map((state, i) => [state, i]))
    this.cumulative = matrix.probs.map((row) => {
      const cum = new Float64Array(row.length)
      let sum = 0
      row.forEach((p, j) => (cum[j] = sum += p))
      return cum
    })
  }

  /**
   * The column index of the next state after `from`. The draw is uniform over the row's own
   * total, i.e. the row is normalised: the TPC-W rows are rounded to four decimals and a few sum
   * to 0.9999, and the emulated browser itself draws within its row's integer total.
   */
  next(from: string, rng: Rng): number {
    const i = this.fromIndex.get(from)
    if (i === undefined) throw new Error(`${this.matrix.name}: no row for ${from}`)
    const cum = this.cumulative[i]
    const u = rng.float() * cum[cum.length - 1]
    for (let j = 0; j < cum.length; j++) if (u < cum[j]) return j
    return cum.length - 1
  }
}

// ---------------------------------------------------------------------------------------------
// TPC-W
// ---------------------------------------------------------------------------------------------

export interface TpcwSessionOptions {
  /** Mean of the geometric minimum session length, in pages. @default 15 */
  meanMinPages?: number
}

const samplers = new WeakMap<TransitionMatrix, RowSampler>()
const samplerOf = (matrix: TransitionMatrix) => {
  let sampler = samplers.get(matrix)
  if (!sampler) samplers.set(matrix, (sampler = new RowSampler(matrix)))
  return sampler
}

/** The pages of one TPC-W session, walking `matrix` from INIT. */
export function* tpcwSessionPages(matrix: TransitionMatrix, rng: Rng, options: TpcwSessionOptions = {}): Generator<TpcwPage> {
  const mean = options.meanMinPages ?? 15
  if (!(mean >= 1)) throw new TypeError(`meanMinPages must be at least 1: ${mean}`)
  const sampler = samplerOf(matrix)
  const minPages = rng.geometric(mean)
  let state = 'INIT'
  for (let count = 0; ; count++) {
    const next = matrix.to[sampler.next(state, rng)]
    if (next === 'INIT') throw new Error(`${matrix.name}: a transition back to INIT`)
    if (count >= minPages && next === 'HOME') return
    yield next as TpcwPage
    state = next
  }
}

// ---------------------------------------------------------------------------------------------
// RUBiS
// ---------------------------------------------------------------------------------------------

export interface RubisSessionOptions {
  /** Longest session, in pages (the RUBiS client's default cap). @default 1000 */
  maxPages?: number
}

/** Whether BACK is possible from each page: entering such a page remembers where it came from. */
function backable(matrix: TransitionMatrix): Set<string> {
  const back = matrix.to.indexOf(BACK)
  return new Set(matrix.from.filter((_, i) => matrix.probs[i][back] > 0))
}

/**
 * One step of the RUBiS client from `page` with history `stack` (mutated) given the drawn
 * column `to`: the next page, or null at END_OF_SESSION. BACK with an empty history (which the
 * matrix never produces from a session's start) resets to Home, as the client does on errors.
 */
function rubisStep(page: string, stack: string[], to: string, canGoBack: Set<string>, maxStack = Infinity): string | null {
  if (to === END_OF_SESSION) return null
  if (to === BACK) {
    const previous = stack.pop()
    if (previous !== undefined) return previous
    return 'Home'
  }
  const next = to === STAY ? page : to
  if (!canGoBack.has(next)) stack.length = 0
  else {
    stack.push(page)
    if (stack.length > maxStack) stack.shift()
  }
  return next
}

/** The pages of one RUBiS session, walking `matrix` from Home to END_OF_SESSION. */
export function* rubisSessionPages(matrix: TransitionMatrix, rng: Rng, options: RubisSessionOptions = {}): Generator<RubisPage> {
  const maxPages = options.maxPages ?? 1000
  if (!(maxPages >= 1)) throw new TypeError(`maxPages must be at least 1: ${maxPages}`)
  const sampler = samplerOf(matrix)
  const canGoBack = backable(matrix)
  const stack: string[] = []
  let page: string | null = 'Home'
  for (let count = 0; page !== null && count < maxPages; count++) {
    yield page as RubisPage
    page = rubisStep(page, stack, matrix.to[sampler.next(page, rng)], canGoBack)
  }
}

// ---------------------------------------------------------------------------------------------
// Sessions of a run
// ---------------------------------------------------------------------------------------------

/** One planned session: which pages a user visits, fixed by the run's seed and its index. */
export interface SessionPlan<P extends string = string> {
  workload: Workload
  seed: number
  index: number
  pages: P[]
}

export interface PlanOptions extends TpcwSessionOptions, RubisSessionOptions {
  /** @default 1 */
  seed?: number
}

/**
 * The session with index `index` of a run: its pages come from their own random stream, so a
 * session is the same whichever other sessions are planned or run.
 */
export function planSession(workload: 'tpcw-browsing' | 'tpcw-shopping', index: number, options?: PlanOptions): SessionPlan<TpcwPage>
export function planSession(workload: 'rubis-bidding', index: number, options?: PlanOptions): SessionPlan<RubisPage>
export function planSession(workload: Workload, index: number, options?: PlanOptions): SessionPlan
export function planSession(workload: Workload, index: number, options: PlanOptions = {}): SessionPlan {
  const seed = options.seed ?? 1
  if (workload === 'blog-views' || workload === 'blog-views-readonly') {
    return { workload, seed, index, pages: blogSessionPages(Rng.derive(seed, BLOG_FAMILY, 'pages', index)) }
  }
  const matrix = matrixOf(workload)
  const rng = Rng.derive(seed, workload, 'pages', index)
  const pages = workload === 'rubis-bidding' ? [...rubisSessionPages(matrix, rng, options)] : [...tpcwSessionPages(matrix, rng, options)]
  return { workload, seed, index, pages }
}

/** Sessions 0, 1, 2... of a run, without end. */
export function* sessionPlans(workload: Workload, options: PlanOptions = {}): Generator<SessionPlan> {
  for (let index = 0; ; index++) yield planSession(workload, index, options)
}

/**
 * The random stream a session's pages draw their parameters from (which item, subject, search
 * terms...): fresh at every call, so every mode of a run replays the same choices.
 */
export function paramRng(plan: Pick<SessionPlan, 'workload' | 'seed' | 'index'>): Rng {
  return Rng.derive(plan.seed, familyOf(plan.workload), 'params', plan.index)
}

const matrices = new Map<Workload, TransitionMatrix>()
/** The published matrix of a workload, loaded once. */
export function matrixOf(workload: MatrixName): TransitionMatrix {
  let matrix = matrices.get(workload)
  if (!matrix) matrices.set(workload, (matrix = loadMatrix(workload)))
  return matrix
}

/** Share of each page among `pages` (fractions summing to 1). */
export function pageMix<P extends string>(pages: Iterable<P>): Record<P, number> {
  const counts = new Map<P, number>()
  let total = 0
  for (const page of pages) {
    counts.set(page, (counts.get(page) ?? 0) + 1)
    total++
  }
  const mix = {} as Record<P, number>
  for (const [page, count] of counts) mix[page] = count / total
  return mix
}

// ---------------------------------------------------------------------------------------------
// Stationary distributions
// ---------------------------------------------------------------------------------------------

/**
 * The stationary distribution of a row-stochastic matrix (rows are normalised first): the long-run
 * share of time in each state. Power iteration on the lazy chain (P + I) / 2, which has the same
 * stationary distribution and no periodicity, until the L1 change falls below `tolerance`.
 * States no other state leads to (TPC-W's INIT) get 0.
 */
export function stationaryDistribution(probs: readonly (readonly number[])[], tolerance = 1e-13): number[] {
  const n = probs.length
  const edges = probs.map((row) => {
    if (row.length !== n) throw new Error('stationaryDistribution: the matrix is not square')
    const sum = row.reduce((a, b) => a + b, 0)
    return row.flatMap((p, j) => (p > 0 ? [[j, p / sum] as const] : []))
  })
  return powerIterate(edges, tolerance)
}

/** Power iteration over a sparse row-stochastic chain: `edges[i]` lists [j, P(i -> j)]. */
function powerIterate(edges: readonly (readonly (readonly [number, number])[])[], tolerance: number, maxIterations = 1_000_000): number[] {
  const n = edges.length
  let pi = new Float64Array(n).fill(1 / n)
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const next = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const mass = pi[i] / 2
      next[i] += mass
      for (const [j, p] of edges[i]) next[j] += mass * p
    }
    let change = 0
    for (let i = 0; i < n; i++) change += Math.abs(next[i] - pi[i])
    pi = next
    if (change < tolerance) return [...pi]
  }
  throw new Error(`stationaryDistribution: no convergence after ${maxIterations} iterations`)
}

/** The stationary page mix of a TPC-W matrix (fractions; INIT left out, it gets none). */
export function tpcwStationaryMix(matrix: TransitionMatrix): Record<TpcwPage, number> {
  if (matrix.from.join() !== matrix.to.join()) throw new Error(`${matrix.name}: rows and columns differ`)
  const pi = stationaryDistribution(matrix.probs)
  const mix = {} as Record<TpcwPage, number>
  for (const page of TPCW_PAGES) mix[page] = pi[matrix.from.indexOf(page)]
  return mix
}

/**
 * Expected pages per TPC-W session with the session rule above: E[minimum] plus the expected
 * number of pages visited before the walk next returns HOME, averaged over where the walk is
 * when the minimum is reached (approximated by the stationary distribution, exact in the limit
 * of long minima).
 */
export function tpcwMeanSessionPages(matrix: TransitionMatrix, options: TpcwSessionOptions = {}): number {
  const mean = options.meanMinPages ?? 15
  const states = matrix.from
  const home = states.indexOf('HOME')
  const rows = matrix.probs.map((row) => row.map((p) => p / row.reduce((a, b) => a + b, 0)))
  // h[i]: expected pages visited from state i before a transition to HOME (pages counted on entry).
  let h = new Float64Array(states.length)
  for (let iteration = 0; iteration < 100_000; iteration++) {
    const next = new Float64Array(states.length)
    for (let i = 0; i < states.length; i++) {
      for (let j = 0; j < states.length; j++) if (j !== home && rows[i][j] > 0) next[i] += rows[i][j] * (1 + h[j])
    }
    let change = 0
    for (let i = 0; i < states.length; i++) change += Math.abs(next[i] - h[i])
    h = next
    if (change < 1e-12) break
  }
  const pi = stationaryDistribution(matrix.probs)
  return mean + pi.reduce((sum, p, i) => sum + p * h[i], 0)
}

/**
 * The long-run page mix of RUBiS sessions as `rubisSessionPages` walks them (sessions laid end to
 * end, each starting at Home): the stationary distribution of the chain whose states are (page,
 * history stack), built from Home by following every transition, with the history cut to its
 * last `maxStackDepth` pages (a deeper history needs that many BACK-able pages in a row; cutting
 * at the default of 12 instead of 30 moves no page's share by more than 2e-9).
 */
export function rubisStationaryMix(matrix: TransitionMatrix, maxStackDepth = 12): Record<RubisPage, number> {
  const canGoBack = backable(matrix)
  const key = (page: string, stack: readonly string[]) => [page, ...stack].join('\u0000')
  const index = new Map<string, number>()
  const states: { page: string; stack: string[] }[] = []
  const edges: (readonly [number, number])[][] = []
  const intern = (page: string, stack: string[]) => {
    const k = key(page, stack)
    let i = index.get(k)
    if (i === undefined) {
      index.set(k, (i = states.length))
      states.push({ page, stack })
    }
    return i
  }
  intern('Home', [])
  for (let s = 0; s < states.length; s++) {
    const { page, stack } = states[s]
    const row = matrix.probs[matrix.from.indexOf(page)]
    const sum = row.reduce((a, b) => a + b, 0)
    const out = new Map<number, number>()
    row.forEach((p, col) => {
      if (p === 0) return
      const nextStack = [...stack]
      const next = rubisStep(page, nextStack, matrix.to[col], canGoBack, maxStackDepth)
      const target = next === null ? intern('Home', []) : intern(next, nextStack)
      out.set(target, (out.get(target) ?? 0) + p / sum)
    })
    edges.push([...out])
  }
  const pi = powerIterate(edges, 1e-13)
  const mix = Object.fromEntries(RUBIS_PAGES.map((page) => [page, 0])) as Record<RubisPage, number>
  states.forEach(({ page }, i) => (mix[page as RubisPage] += pi[i]))
  return mix
}
