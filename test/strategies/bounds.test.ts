import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULTS } from '../../src/options.ts'
import { READ_OPERATIONS } from '../../src/shared.ts'
import { summarize } from '../../src/strategies/steps.ts'
import { LearnedPredictor, type LearnSettings } from '../../src/strategies/learner.ts'
import { DuelRecords, exactWins, FollowerMemory } from '../../src/strategies/followers.ts'
import { ArgumentMappings } from '../../src/strategies/mappings.ts'
import { containsSlot, TemplateTable } from '../../src/strategies/template.ts'
import { blend, TransitionModel, type NextTemplates } from '../../src/strategies/transitions.ts'
import type { Candidate, ObservedQuery, SessionRef } from '../../src/strategies/types.ts'

/** Bounds small enough that a short run reaches every one of them. */
const SMALL: LearnSettings = {
  ...DEFAULTS.learn,
  order: 2,
  minSupport: 1,
  windowMs: 1_000,
  agingLimit: 6,
  maxSessions: 5,
  maxHistory: 3,
  sessionIdleMs: 5_000,
  maxRows: 4,
  maxTemplates: 7,
  maxContexts: 9,
  maxBranches: 3,
  maxUsers: 4,
  maxUserContexts: 5,
  userPriorWeight: 2,
  lookback: 3,
  maxRecall: 2,
  maxSources: 3,
  minConfidence: 0.2,
  maxFanOut: 2,
  maxArgumentContexts: 6,
  maxValues: 3,
  maxExactReads: 8,
  maxAlternatives: 2,
}

/** Peaks equal to every bound of SMALL: the run reached each of them. */
const ALL_BOUNDS_REACHED = {
  sessions: SMALL.maxSessions,
  longestHistory: SMALL.maxHistory,
  templates: SMALL.maxTemplates,
  contexts: SMALL.maxContexts,
  users: SMALL.maxUsers,
  mappedTemplates: SMALL.maxTemplates,
  branches: SMALL.maxBranches,
  userContexts: SMALL.maxUserContexts,
  sources: SMALL.maxSources,
  argumentContexts: SMALL.maxArgumentContexts,
  values: SMALL.maxValues,
  recallSessions: SMALL.maxSessions,
  longestRecall: SMALL.maxRecall,
  exactReads: SMALL.maxExactReads,
  perRead: SMALL.maxAlternatives,
}

/**
 * The learner's private models, for the bounds `sizes()` does not report: next templates per
 * context, contexts per user, sources per slot. Checked to be what they are taken to be, so a
 * renamed field fails here rather than letting the checks pass on nothing.
 */
interface Internals {
  global: TransitionModel
  users: Map<string, TransitionModel>
  mappings: ArgumentMappings
}
function internals(predictor: LearnedPredictor): Internals {
  const inner = predictor as unknown as Internals
  expect(inner.global).toBeInstanceOf(TransitionModel)
  expect(inner.users).toBeInstanceOf(Map)
  expect(inner.mappings).toBeInstanceOf(ArgumentMappings)
  return inner
}

function plain(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** The largest size of each bounded structure seen so far, to show that the bounds are reached. */
interface Peaks {
  sessions: number
  longestHistory: number
  templates: number
  contexts: number
  users: number
  mappedTemplates: number
  branches: number
  userContexts: number
  sources: number
  argumentContexts: number
  loopedLists: number
  recallSessions: number
  longestRecall: number
  values: number
  exactReads: number
  exactFollowers: number
  duelRecords: number
  /** Candidates proposed after one read. */
  perRead: number
  fanOuts: number
  candidates: number
}
const noPeaks = (): Peaks => ({
  sessions: 0,
  longestHistory: 0,
  templates: 0,
  contexts: 0,
  users: 0,
  mappedTemplates: 0,
  branches: 0,
  userContexts: 0,
  sources: 0,
  argumentContexts: 0,
  loopedLists: 0,
  recallSessions: 0,
  longestRecall: 0,
  values: 0,
  exactReads: 0,
  exactFollowers: 0,
  duelRecords: 0,
  perRead: 0,
  fanOuts: 0,
  candidates: 0,
})

/**
 * A learner under test: observes reads on a clock the test drives and checks every bound after
 * every read, and every candidate it returns.
 */
class Harness {
  readonly predictor: LearnedPredictor
  readonly peaks = noPeaks()
  now = 0
  private readonly observed = new Set<string>()
  /** Every template id seen (ids are hashes of the shape, the same in every table). */
  private readonly ids = new Set<string>()
  private readonly table = new TemplateTable(1_000_000)

  private readonly inner: Internals

  constructor(readonly settings: LearnSettings) {
    this.predictor = new LearnedPredictor(settings)
    this.inner = internals(this.predictor)
  }

  read(session: SessionRef | undefined, query: ObservedQuery, gapMs = 10): Candidate[] {
    this.now += gapMs
    this.observed.add(`${query.model}.${query.operation}`)
    const id = this.table.resolve(query)?.template.id
    if (id !== undefined) this.ids.add(id)
    const candidates = this.predictor.observe({ session, query, at: this.now })
    this.checkBounds()
    this.checkCandidates(candidates, query.result)
    return candidates
  }

  checkBounds(): void {
    const { settings, peaks } = this
    const sizes = this.predictor.sizes()
    atMost(sizes.sessions, settings.maxSessions, 'sessions')
    atMost(sizes.longestHistory, settings.maxHistory, 'longest history')
    atMost(sizes.templates, settings.maxTemplates, 'templates')
    atMost(sizes.contexts, settings.maxContexts, 'contexts')
    atMost(sizes.users, settings.maxUsers, 'users')
    atMost(sizes.mappedTemplates, settings.maxTemplates, 'mapped templates')
    atMost(sizes.argumentContexts, settings.maxArgumentContexts, 'transitions with arguments of their own')
    atMost(sizes.loopedLists, settings.maxTemplates, 'templates of lists looped over')
    atMost(sizes.recallSessions, settings.maxSessions, 'sessions recalled')
    atMost(sizes.longestRecall, settings.maxRecall, 'templates one session recalls')
    atMost(sizes.exactReads, settings.maxExactReads, 'exact reads with followers remembered')
    atMost(sizes.exactFollowers, settings.maxValues, 'followers of an exact read')
    atMost(sizes.duelRecords, settings.maxArgumentContexts, 'transitions with a record of the whole-read memory against the derivation')
    for (const key of Object.keys(sizes) as (keyof typeof sizes)[]) peaks[key] = Math.max(peaks[key], sizes[key])

    const inner = this.inner
    const checkModel = (model: TransitionModel, maxContexts: number) => {
      atMost(model.size, maxContexts, 'contexts of a model')
      for (const { context, total, next } of model.entries()) {
        check(context.length >= 1 && context.length <= settings.order, `a context of ${context.length} templates`)
        atMost(next.size, settings.maxBranches, 'next templates of a context')
        let sum = 0
        for (const count of next.values()) {
          check(count > 0, `a count of ${count}`)
          sum += count
        }
        check(Math.abs(total - sum) < 1e-9, `a total of ${total} for counts summing to ${sum}`)
        peaks.branches = Math.max(peaks.branches, next.size)
      }
    }
    checkModel(inner.global, settings.maxContexts)
    atMost(inner.users.size, settings.maxUsers, 'user models')
    for (const model of inner.users.values()) {
      checkModel(model, settings.maxUserContexts)
      peaks.userContexts = Math.max(peaks.userContexts, model.size)
    }
    for (const slots of inner.mappings.models()) {
      for (const { sources, values } of slots) {
        atMost(sources.length, settings.maxSources, 'sources of a slot')
        atMost(values.counts.size, settings.maxValues, 'values of a slot')
        peaks.values = Math.max(peaks.values, values.counts.size)
        let sum = 0
        for (const { count } of values.counts.values()) {
          check(count > 0, `a value counted ${count} times`)
          sum += count
        }
        check(sum <= values.total + 1e-9, `values counted ${sum} times of ${values.total}`)
      }
    }
    for (const id of this.ids) {
      for (const sources of inner.mappings.evidence(id) ?? []) {
        atMost(sources.length, settings.maxSources, 'sources of a slot')
        peaks.sources = Math.max(peaks.sources, sources.length)
        for (const { held, seen } of sources) check(seen > 0 && held >= 0 && held <= seen, `a source that held ${held} of ${seen} times`)
      }
    }
  }

  checkCandidates(candidates: readonly Candidate[], result: unknown): void {
    atMost(candidates.length, this.settings.maxAlternatives, 'candidates of a read')
    this.peaks.perRead = Math.max(this.peaks.perRead, candidates.length)
    for (const candidate of candidates) {
      this.peaks.candidates++
      const { model, operation, args } = candidate.query
      check(candidate.probability >= 0 && candidate.probability <= 1, `a probability of ${candidate.probability}`)
      check(plain(args) && !containsSlot(args), 'candidate arguments are a plain object with no slot left')
      const fanOut = candidate.fanOut
      if (fanOut === undefined) {
        check(candidate.strategy === 'transitions', `strategy ${candidate.strategy}`)
        check(this.observed.has(`${model}.${operation}`), `a candidate ${model}.${operation} never read`)
        continue
      }
      this.peaks.fanOuts++
      check(candidate.strategy === 'fanOut' && operation === 'findMany', `a fan-out as ${candidate.strategy} ${operation}`)
      check(fanOut.operation === 'findUnique' || fanOut.operation === 'findUniqueOrThrow', `a fan-out for ${fanOut.operation}`)
      check(this.observed.has(`${model}.${fanOut.operation}`), `a fan-out for ${model}.${fanOut.operation} never read`)
      check(fanOut.values.length >= 1 && fanOut.values.length <= this.settings.maxFanOut, `a fan-out of ${fanOut.values.length} values`)
      expect((args.where as Record<string, unknown>)[fanOut.field]).toEqual({ in: fanOut.values })
      for (const value of fanOut.values) {
        const single = fanOut.argsFor(value)
        check(!containsSlot(single), 'fan-out arguments with no slot left')
        expect((single.where as Record<string, unknown>)[fanOut.field]).toEqual(value)
      }
      if (fanOut.rows !== undefined) {
        check(Array.isArray(result), 'fan-out rows from a list')
        for (const row of fanOut.rows) {
          check((result as unknown[]).includes(row), 'a fan-out row of the list just read')
          check(fanOut.values.some((value) => sameScalar(value, row[fanOut.field])), 'a fan-out row for one of the values')
        }
      }
    }
  }
}

function sameScalar(a: unknown, b: unknown): boolean {
  return Object.is(a, b) || (a instanceof Date && b instanceof Date && a.getTime() === b.getTime())
}

/** Cheap checks for the hot loop (an `expect` per bound per read would dominate the run time). */
function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`check failed: ${what}`)
}
function atMost(size: number, bound: number, what: string): void {
  if (!(size <= bound)) throw new Error(`${what}: ${size}, over the bound ${bound}`)
}

// Inputs no read should trip on.
const cyclicRow: Record<string, unknown> = { id: 1, authorId: 2 }
cyclicRow.self = cyclicRow
cyclicRow.author = cyclicRow
const cyclicList: unknown[] = [cyclicRow, { id: 2 }]
cyclicList.push(cyclicList)
const cyclicWhere: Record<string, unknown> = { id: 1 }
cyclicWhere.AND = [cyclicWhere]
const HUGE = Array.from({ length: 10_000 }, (_, i) => ({ id: i, authorId: i % 5, title: `post ${i}`, at: new Date(i) }))
const deep = (levels: number): Record<string, unknown> => (levels === 0 ? { id: 1 } : { is: deep(levels - 1) })

const small = fc.integer({ min: 0, max: 6 })
const value = fc.oneof(
  { arbitrary: small, weight: 6 },
  { arbitrary: fc.constantFrom('a', 'b', 'c', ''), weight: 2 },
  fc.bigInt({ min: 0n, max: 3n }),
  small.map((n) => new Date(n * 1000)),
  fc.constant(new Date(Number.NaN)),
  fc.constant(null),
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 3 }),
  fc.double(),
  fc.constant('x'.repeat(300)),
)
const fieldName = fc.constantFrom('f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9', 'f10', 'f11')
const argsArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { arbitrary: fc.record({ where: fc.record({ id: value }) }), weight: 12 },
  { arbitrary: fc.record({ where: fc.record({ authorId: value }), take: fc.constantFrom(2, 5), skip: small }), weight: 6 },
  { arbitrary: fc.record({ where: fc.record({ id: fc.record({ in: fc.array(value, { maxLength: 4 }) }) }) }), weight: 2 },
  fc.record({ where: fc.record({ OR: fc.tuple(fc.record({ email: value }), fc.record({ name: value })) }), select: fc.constant({ id: true, email: true }) }),
  fc.record({ where: fc.record({ authorId: value }), cursor: fc.record({ id: value }), orderBy: fc.constant({ id: 'asc' }) }),
  fieldName.map((name) => ({ select: { [name]: true } })),
  fc.record({ where: fc.record({ id: value }), select: fc.record({ id: fc.boolean(), title: fc.constant(true) }) }),
  fc.constant({}),
  fc.constant({ where: null }),
  fc.constant({ where: { id: undefined }, select: null, take: null }),
  fc.constant(undefined as unknown as Record<string, unknown>),
  fc.constant(null as unknown as Record<string, unknown>),
  fc.constant({ where: cyclicWhere }),
  fc.constant({ where: { author: deep(30) } }),
)
const row = fc.record(
  {
    id: value,
    authorId: small,
    email: fc.constantFrom('a', 'b', 'c'),
    createdAt: small.map((n) => new Date(n * 1000)),
    big: fc.bigInt({ min: 0n, max: 3n }),
    bytes: fc.uint8Array({ maxLength: 3 }),
    author: fc.record({ id: small, name: fc.string({ maxLength: 3 }) }),
    tags: fc.array(small, { maxLength: 3 }),
    note: fc.constant(null),
  },
  { requiredKeys: ['id'] },
)
const resultArb = fc.oneof(
  { arbitrary: fc.array(row, { maxLength: 8 }), weight: 5 },
  { arbitrary: row, weight: 3 },
  fc.constant(undefined),
  fc.constant(null),
  small,
  fc.constant({ _count: { _all: 3 } }),
  fc.constant(HUGE),
  fc.constant(cyclicRow),
  fc.constant(cyclicList),
  fc.constant([1, 2, 3]),
  fc.constant([null, { id: 1 }]),
)
const sessionArb = fc.option(
  fc.record(
    {
      sessionId: fc.constantFrom('s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7', '', '__proto__'),
      userId: fc.constantFrom('u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'constructor'),
    },
    { requiredKeys: ['sessionId'] },
  ),
  { nil: undefined, freq: 10 },
)
const gapArb = (settings: LearnSettings) =>
  fc.oneof(
    { arbitrary: fc.constant(0), weight: 1 },
    { arbitrary: fc.integer({ min: 1, max: 50 }), weight: 12 },
    { arbitrary: fc.integer({ min: 51, max: settings.windowMs }), weight: 2 },
    { arbitrary: fc.integer({ min: settings.windowMs + 1, max: settings.sessionIdleMs }), weight: 2 },
    { arbitrary: fc.integer({ min: settings.sessionIdleMs + 1, max: 3 * settings.sessionIdleMs }), weight: 1 },
  )
const eventArb = (settings: LearnSettings) =>
  fc.record({
    session: sessionArb,
    model: fc.oneof({ arbitrary: fc.constantFrom('User', 'Post'), weight: 6 }, fc.constant('Comment')),
    operation: fc.oneof({ arbitrary: fc.constantFrom('findUnique', 'findMany'), weight: 6 }, fc.constantFrom(...READ_OPERATIONS)),
    args: argsArb,
    result: resultArb,
    gap: gapArb(settings),
  })

describe('bounds under random reads', () => {
  it('hold after every read, and every candidate is well formed (property)', () => {
    const total = noPeaks()
    const events = fc.array(eventArb(SMALL), { minLength: 1, maxLength: 60, size: 'max' })
    const run = fc.property(events, (events) => {
      const harness = new Harness(SMALL)
      for (const { session, model, operation, args, result, gap } of events) harness.read(session, { model, operation, args, result }, gap)
      for (const key of Object.keys(total) as (keyof Peaks)[]) total[key] = key === 'fanOuts' || key === 'candidates' ? total[key] + harness.peaks[key] : Math.max(total[key], harness.peaks[key])
    })
    // New random input on every run for the bounds; whether every bound is reached depends on the
    // input, so that is asserted on a fixed one.
    fc.assert(run, { numRuns: 120 })
    Object.assign(total, noPeaks())
    fc.assert(run, { numRuns: 120, seed: 20261124 })
    // The random runs get to the bounds, and through the paths that propose reads.
    expect(total).toMatchObject(ALL_BOUNDS_REACHED)
    expect(total.candidates).toBeGreaterThan(0)
  })

  it('hold with the read order fixed and only the values random, and fan-outs stay within maxFanOut (property)', () => {
    // A list, then one of its rows, then that row's author: the learner proposes reads, fan-outs too.
    let fanOuts = 0
    fc.assert(
      fc.property(
        fc.array(fc.record({ session: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'), rows: fc.array(row, { minLength: 1, maxLength: 9 }), pick: fc.nat(), gap: gapArb(SMALL) }), {
          minLength: 1,
          maxLength: 40,
        }),
        (visits) => {
          const harness = new Harness(SMALL)
          for (const { session: sessionId, rows, pick, gap } of visits) {
            const session = { sessionId, userId: `u-${sessionId}` }
            harness.read(session, { model: 'Post', operation: 'findMany', args: { where: { published: true }, take: 10 }, result: rows }, gap)
            const chosen = rows[pick % rows.length]
            harness.read(session, { model: 'Post', operation: 'findUnique', args: { where: { id: chosen.id } }, result: chosen })
            harness.read(session, { model: 'User', operation: 'findUnique', args: { where: { id: chosen.authorId } }, result: { id: chosen.authorId } })
          }
          fanOuts += harness.peaks.fanOuts
        },
      ),
      { numRuns: 60 },
    )
    expect(fanOuts).toBeGreaterThan(0)
  })

  it('reaches every bound on a deterministic run, and holds it', () => {
    const harness = new Harness(SMALL)
    for (let round = 0; round < 40; round++) {
      // Five sessions taking turns, their users changing: six users, twelve templates.
      for (let s = 0; s < 5; s++) {
        const session = { sessionId: `s${s}`, userId: `u${(s + round) % 6}` }
        const n = (round * 5 + s) % 7
        const rows = Array.from({ length: 6 }, (_, r) => ({ id: 10 * n + r, authorId: n }))
        harness.read(session, { model: 'Post', operation: 'findMany', args: { where: { authorId: n }, select: { [`f${(round + s) % 10}`]: true } }, result: rows })
        harness.read(session, { model: 'Post', operation: 'findUnique', args: { where: { id: rows[round % 6].id } }, result: rows[round % 6] })
        harness.read(session, { model: 'User', operation: 'findUnique', args: { where: { id: n } }, result: { id: n } })
      }
    }
    expect(harness.peaks).toMatchObject(ALL_BOUNDS_REACHED)
    // Full, and not over.
    expect(harness.predictor.sizes()).toEqual({
      sessions: SMALL.maxSessions,
      longestHistory: SMALL.maxHistory,
      templates: SMALL.maxTemplates,
      contexts: SMALL.maxContexts,
      users: SMALL.maxUsers,
      mappedTemplates: SMALL.maxTemplates,
      argumentContexts: SMALL.maxArgumentContexts,
      loopedLists: expect.any(Number),
      recallSessions: SMALL.maxSessions,
      longestRecall: SMALL.maxRecall,
      exactReads: SMALL.maxExactReads,
      exactFollowers: expect.any(Number),
      duelRecords: expect.any(Number),
    })
    expect(harness.peaks.candidates).toBeGreaterThan(0)
  })

  it('keeps at most maxExactReads reads with their followers, maxValues followers each, the most frequent kept', () => {
    const memory = new FollowerMemory({ maxExactReads: 4, maxValues: 3, agingLimit: 50 })
    for (let i = 0; i < 200; i++) {
      // One read followed by a new read each time, and by one read often; and reads never seen again.
      memory.learn('often', i % 2 === 0 ? 'usual' : `k${i}`, 't', [i % 2 === 0 ? 0 : i])
      memory.learn(`once${i}`, 'usual', 't', [0])
      expect(memory.size).toBeLessThanOrEqual(4)
      expect(memory.widest()).toBeLessThanOrEqual(3)
    }
    expect(memory.size).toBe(4)
    expect(memory.widest()).toBe(3)
    const followers = memory.followers('often')!
    const usual = [...followers.next].map(([, f]) => f).find((f) => f.values[0] === 0)!
    // Aged: the total halved with the counts, the usual follower about half of it.
    expect(followers.total).toBeLessThanOrEqual(50)
    expect(usual.count / followers.total).toBeGreaterThan(0.4)
  })

  it('keeps at most maxArgumentContexts records of the whole-read memory against the derivation, the least recently disputed forgotten, and ages them', () => {
    const records = new DuelRecords(4, 50)
    const read = { model: 'Item', operation: 'findUnique', args: { where: { id: 1 } } }
    for (let i = 0; i < 200; i++) {
      // One transition disputed on every read, the memory right 3 times in 4; and transitions never disputed again.
      const often = records.of('a', 'b')
      records.settle({ record: often, exact: 'x', derived: 'y' }, i % 4 === 0 ? 'y' : 'x', read)
      records.settle({ record: records.of(`once${i}`, 'b'), exact: 'x', derived: 'y' }, 'x', read)
      expect(records.size).toBeLessThanOrEqual(4)
    }
    expect(records.size).toBe(4)
    const often = records.of('a', 'b')
    // Aged: halved when past 50, the memory's share kept.
    expect(often.duels).toBeLessThanOrEqual(50)
    expect(often.exact / often.duels).toBeCloseTo(0.75, 1)
    expect(exactWins(often, 5)).toBe(true)
    // A new record has nothing to win with.
    expect(exactWins(records.of('c', 'd'), 5)).toBe(false)
  })

  it('does not grow over a long run of unique values (5,000 reads)', () => {
    const settings: LearnSettings = { ...SMALL, minSupport: 3, minConfidence: 0.5 }
    const harness = new Harness(settings)
    let predicted = 0
    let reads = 0
    for (let i = 0; reads < 5_000; i++) {
      const session = { sessionId: `session ${i % 40}`, userId: `user ${i % 25}` }
      const id = 1_000_000 + i
      harness.read(session, { model: 'User', operation: 'findUnique', args: { where: { email: `user${i}@example.com` } }, result: { id, email: `user${i}@example.com` } })
      const posts = Array.from({ length: 20 }, (_, r) => ({ id: id * 100 + r, authorId: id, title: `post ${i}.${r}` }))
      const next = harness.read(session, { model: 'Post', operation: 'findMany', args: { where: { authorId: id }, take: 20 }, result: posts })
      harness.read(session, { model: 'Post', operation: 'findUnique', args: { where: { id: posts[i % 20].id } }, result: posts[i % 20] })
      // Now and then a shape never seen before, too.
      harness.read(session, { model: 'Comment', operation: 'findMany', args: { where: { postId: posts[0].id }, select: { [`c${i % 97}`]: true } }, result: [] })
      reads += 4
      if (next.some((candidate) => candidate.fanOut !== undefined)) predicted++
    }
    const sizes = harness.predictor.sizes()
    expect(sizes.sessions).toBe(settings.maxSessions)
    expect(sizes.templates).toBe(settings.maxTemplates)
    expect(sizes.users).toBe(settings.maxUsers)
    expect(sizes.contexts).toBeLessThanOrEqual(settings.maxContexts)
    expect(sizes.mappedTemplates).toBeLessThanOrEqual(settings.maxTemplates)
    expect(sizes.longestHistory).toBeLessThanOrEqual(settings.maxHistory)
    expect(harness.peaks.sources).toBeLessThanOrEqual(settings.maxSources)
    // Unique values do not stop it from learning the pattern: the list's rows are fanned out.
    expect(predicted).toBeGreaterThan(0)
  })
})

describe('sessions and windows', () => {
  const read = (harness: Harness, sessionId: string, gap: number) =>
    harness.read({ sessionId }, { model: 'User', operation: 'findUnique', args: { where: { id: 1 } }, result: { id: 1 } }, gap)

  it('forgets sessions idle for longer than sessionIdleMs', () => {
    const harness = new Harness(SMALL)
    for (const id of ['a', 'b', 'c', 'd']) read(harness, id, 10)
    expect(harness.predictor.sizes().sessions).toBe(4)
    read(harness, 'e', SMALL.sessionIdleMs + 1)
    expect(harness.predictor.sizes().sessions).toBe(1)

    // Only the idle ones go: one active within sessionIdleMs stays.
    const mixed = new Harness(SMALL)
    read(mixed, 'a', 0)
    read(mixed, 'b', SMALL.sessionIdleMs / 2)
    read(mixed, 'c', SMALL.sessionIdleMs / 2 + 1)
    expect(mixed.predictor.sizes().sessions).toBe(2)

    // A session back after idling starts a new history.
    const back = new Harness(SMALL)
    for (let i = 0; i < 3; i++) read(back, 'a', 10)
    expect(back.predictor.sizes().longestHistory).toBe(3)
    read(back, 'a', SMALL.sessionIdleMs + 1)
    expect(back.predictor.sizes()).toMatchObject({ sessions: 1, longestHistory: 1 })
  })

  it('starts the history afresh after a gap over windowMs, learning no transition across it', () => {
    const harness = new Harness(SMALL)
    read(harness, 'a', 10)
    read(harness, 'a', SMALL.windowMs + 1)
    expect(harness.predictor.sizes()).toMatchObject({ contexts: 0, longestHistory: 1, mappedTemplates: 0 })
    read(harness, 'a', SMALL.windowMs)
    expect(harness.predictor.sizes()).toMatchObject({ contexts: 1, longestHistory: 2, mappedTemplates: 1 })
  })

  it('keeps at most maxSessions sessions, dropping the least recently active', () => {
    const harness = new Harness(SMALL)
    for (let i = 0; i < 20; i++) read(harness, `s${i}`, 1)
    expect(harness.predictor.sizes().sessions).toBe(SMALL.maxSessions)
  })

  it('learns nothing from reads outside a session', () => {
    const harness = new Harness(SMALL)
    for (let i = 0; i < 10; i++) expect(harness.read(undefined, { model: 'User', operation: 'findUnique', args: { where: { id: i } }, result: { id: i } })).toEqual([])
    expect(harness.predictor.sizes()).toEqual({ sessions: 0, longestHistory: 0, templates: 0, contexts: 0, users: 0, mappedTemplates: 0, argumentContexts: 0, loopedLists: 0, exactReads: 0, exactFollowers: 0, duelRecords: 0, recallSessions: 0, longestRecall: 0 })
  })
})

describe('result summaries', () => {
  it('keep at most maxRows rows of a huge list, and its last row', () => {
    const summary = summarize(HUGE, 4)!
    expect(summary.length).toBe(10_000)
    expect(summary.rows).toHaveLength(4)
    expect(summary.single).toBe(false)
    const id = summary.fields.indexOf('id')
    expect(summary.rows.map((values) => values[id])).toEqual([0, 1, 2, 3])
    expect(summary.last![id]).toBe(9_999)
  })

  it('take cyclic, odd and empty results in their stride', () => {
    expect(summarize(cyclicRow, 4)).toMatchObject({ single: true, length: 1 })
    expect(summarize(cyclicRow, 4)!.fields).toEqual(['id', 'authorId', 'self.id', 'self.authorId', 'author.id', 'author.authorId'])
    expect(summarize(cyclicList, 2)).toMatchObject({ single: false, length: 3 })
    for (const result of [undefined, null, 3, 'text', [], [1, 2], [null, { id: 1 }], new Date(0)]) expect(summarize(result, 4)).toBeUndefined()
  })

  it('are bounded whatever the result (property)', () => {
    fc.assert(
      fc.property(fc.oneof(resultArb, fc.array(row, { maxLength: 40 })), fc.integer({ min: 1, max: 10 }), (result, maxRows) => {
        const summary = summarize(result, maxRows)
        if (summary === undefined) return
        expect(summary.rows.length).toBeLessThanOrEqual(maxRows)
        expect(summary.fields.length).toBeLessThanOrEqual(32)
        for (const values of summary.rows) expect(values).toHaveLength(summary.fields.length)
        if (summary.last !== undefined) expect(summary.last).toHaveLength(summary.fields.length)
        expect(summary.length).toBe(Array.isArray(result) ? result.length : 1)
      }),
    )
  })
})

describe('TransitionModel and blend', () => {
  const ids = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h')

  it('keep maxContexts contexts and maxBranches next templates each, with probabilities in [0, 1] (property)', () => {
    fc.assert(
      fc.property(
        fc.record({ order: fc.integer({ min: 1, max: 3 }), maxContexts: fc.integer({ min: 1, max: 6 }), maxBranches: fc.integer({ min: 1, max: 4 }), agingLimit: fc.integer({ min: 1, max: 12 }) }),
        fc.array(fc.tuple(fc.array(ids, { maxLength: 4 }), ids), { maxLength: 120 }),
        fc.integer({ min: 1, max: 4 }),
        (bounds, records, minSupport) => {
          const model = new TransitionModel(bounds)
          let branchesReached = false
          for (const [previous, next] of records) {
            model.record(previous, next)
            expect(model.size).toBeLessThanOrEqual(bounds.maxContexts)
            for (const entry of model.entries()) {
              expect(entry.next.size).toBeLessThanOrEqual(bounds.maxBranches)
              if (entry.next.size === bounds.maxBranches) branchesReached = true
            }
            const predicted = model.predict(previous, minSupport)
            if (predicted === undefined) continue
            expect(predicted.support).toBeGreaterThanOrEqual(minSupport)
            expect(predicted.order).toBeLessThanOrEqual(Math.min(bounds.order, previous.length))
            let sum = 0
            for (const p of predicted.probabilities.values()) {
              expect(p).toBeGreaterThan(0)
              expect(p).toBeLessThanOrEqual(1)
              sum += p
            }
            expect(sum).toBeCloseTo(1, 9)
          }
          if (records.length > 60 && bounds.maxBranches <= 2) expect(branchesReached).toBe(true)
        },
      ),
    )
  })

  it('blends two distributions into one, each probability in [0, 1] (property)', () => {
    const distribution = fc
      .record({ order: fc.integer({ min: 1, max: 3 }), support: fc.integer({ min: 1, max: 1000 }), weights: fc.dictionary(ids, fc.integer({ min: 1, max: 50 }), { minKeys: 1 }) })
      .map(({ order, support, weights }): NextTemplates => {
        const total = Object.values(weights).reduce((a, b) => a + b, 0)
        return { order, support, probabilities: new Map(Object.entries(weights).map(([id, w]) => [id, w / total])) }
      })
    fc.assert(
      fc.property(fc.option(distribution, { nil: undefined }), fc.option(distribution, { nil: undefined }), fc.integer({ min: 0, max: 100 }), (global, user, prior) => {
        const blended = blend(global, user, prior)
        if (global === undefined || user === undefined) {
          expect(blended).toBe(global ?? user)
          return
        }
        let sum = 0
        for (const p of blended!.probabilities.values()) {
          expect(p).toBeGreaterThanOrEqual(0)
          expect(p).toBeLessThanOrEqual(1)
          sum += p
        }
        expect(sum).toBeCloseTo(1, 9)
        expect(blended!.support).toBe(global.support + user.support)
      }),
    )
  })
})
