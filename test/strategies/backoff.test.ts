/**
 * Learning under CPU pressure (`ReadEvent.backoff`): the learner predicts nothing, learns from an
 * observation of a settled context (`settledAfter`) 1 time in `learnEvery`, counting each one
 * left out, and keeps every read in its session's history, so that what it predicts once the
 * pressure has passed is what it would have predicted without it.
 */
import { describe, expect, it } from 'vitest'
import { DEFAULTS } from '../../src/options.ts'
import { rank } from '../../src/strategies/combine.ts'
import { LearnedPredictor } from '../../src/strategies/learner.ts'
import type { Backoff, Candidate, ObservedQuery, SessionRef } from '../../src/strategies/types.ts'

/** A learner with the default settings and a clock the test drives; `backoff` while pressed. */
function learner() {
  const predictor = new LearnedPredictor({ ...DEFAULTS.learn })
  let now = 0
  return {
    predictor,
    read(session: SessionRef, query: ObservedQuery, backoff?: Backoff): Candidate[] {
      now += 1000
      const candidates = predictor.observe({ session, query, at: now, minProbability: 0.3, backoff })
      return rank(candidates, { minProbability: 0.3, maxPerTrigger: 3 })
    },
  }
}

/** Counts what the learner leaves out. */
function backoff(learnEvery: number, settledAfter: number) {
  const counted = { sampledOut: 0 }
  const b: Backoff = { learnEvery, settledAfter, sampledOut: () => counted.sampledOut++ }
  return { backoff: b, counted }
}

const userRead = (id: number): ObservedQuery => ({ model: 'User', operation: 'findUnique', args: { where: { id } }, result: { id, name: `user ${id}` } })
const postsRead = (authorId: number): ObservedQuery => ({
  model: 'Post',
  operation: 'findMany',
  args: { where: { authorId } },
  result: [0, 1].map((k) => ({ id: authorId * 10 + k, authorId })),
})
/** A read that holds nothing of the user: what follows it takes its argument from further back. */
const tagsRead: ObservedQuery = { model: 'Tag', operation: 'findMany', args: { take: 5 }, result: [{ id: 1 }] }
const profileRead = (id: number): ObservedQuery => ({ model: 'User', operation: 'findUnique', args: { where: { id }, select: { name: true } }, result: { name: `user ${id}` } })

/** The support of the transition from a user read to a posts read. */
const support = (predictor: LearnedPredictor) =>
  predictor.describe(50).transitions.find((t) => t.after.length === 1 && t.after[0].startsWith('User.findUnique') && t.next.startsWith('Post.findMany'))?.support

describe('learning under CPU pressure', () => {
  it('predicts nothing, and learns a settled context 1 observation in learnEvery, counting the others', () => {
    const { predictor, read } = learner()
    for (let i = 1; i <= 30; i++) {
      read({ sessionId: `calm${i}` }, userRead(i))
      read({ sessionId: `calm${i}` }, postsRead(i))
    }
    expect(support(predictor)).toBe(30)
    // Calm, a user read predicts their posts.
    expect(read({ sessionId: 'probe' }, userRead(99)).map((c) => c.query.args)).toEqual([{ where: { authorId: 99 } }])

    const { backoff: pressed, counted } = backoff(4, 20)
    for (let i = 31; i <= 70; i++) {
      expect(read({ sessionId: `busy${i}` }, userRead(i), pressed)).toEqual([])
      expect(read({ sessionId: `busy${i}` }, postsRead(i), pressed)).toEqual([])
    }
    // Of the 40 observations of the settled context, every 4th was learned from.
    expect(counted.sampledOut).toBe(30)
    expect(support(predictor)).toBe(40)
  })

  it('learns from every observation of a context not yet settled, and from every one with learnEvery 1', () => {
    const { predictor, read } = learner()
    const { backoff: unsettled, counted } = backoff(4, 1000)
    for (let i = 1; i <= 20; i++) {
      read({ sessionId: `a${i}` }, userRead(i), unsettled)
      read({ sessionId: `a${i}` }, postsRead(i), unsettled)
    }
    expect(counted.sampledOut).toBe(0)
    expect(support(predictor)).toBe(20)
    const { backoff: every, counted: none } = backoff(1, 1)
    for (let i = 21; i <= 40; i++) {
      read({ sessionId: `b${i}` }, userRead(i), every)
      read({ sessionId: `b${i}` }, postsRead(i), every)
    }
    expect(none.sampledOut).toBe(0)
    expect(support(predictor)).toBe(40)
  })

  it('keeps every read in its history: once calm, the arguments predicted are those predicted without the back-off', () => {
    // Pages of four reads; the last takes the user's id from three reads back.
    const page = (read: ReturnType<typeof learner>['read'], session: string, id: number, pressed?: Backoff) => [
      read({ sessionId: session }, userRead(id), pressed),
      read({ sessionId: session }, postsRead(id), pressed),
      read({ sessionId: session }, tagsRead),
    ]
    const calm = learner()
    const pressedLearner = learner()
    for (const l of [calm, pressedLearner]) {
      for (let i = 1; i <= 30; i++) {
        page(l.read, `s${i}`, i)
        l.read({ sessionId: `s${i}` }, profileRead(i))
      }
    }
    const { backoff: pressed, counted } = backoff(2, 10)
    // The first two reads of a page under pressure, the third calm: what follows the third is predicted from the first.
    const expected = page(calm.read, 'visit', 77)[2]
    const got = page(pressedLearner.read, 'visit', 77, pressed)
    expect(got[0]).toEqual([])
    expect(got[1]).toEqual([])
    expect(counted.sampledOut).toBe(1)
    expect(expected.map((c) => c.query)).toContainEqual({ model: 'User', operation: 'findUnique', args: { where: { id: 77 }, select: { name: true } } })
    expect(got[2].map((c) => c.query)).toEqual(expected.map((c) => c.query))
    expect(got[2].map((c) => c.probability)).toEqual(expected.map((c) => c.probability))
  })
})
