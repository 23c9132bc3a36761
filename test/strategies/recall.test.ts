/**
 * The recall memory on a generated workload: a session logs in, browses, logs in again with the
 * same credentials (the login every bid page repeats), and later reads by its own user id (the
 * login's result), both further back than the history reaches (`maxHistory` 4, `lookback` 3).
 * Only the session's last read of each template, kept apart from its history, has those values.
 * Sessions are plain data from a seeded generator, so each run is the same.
 */
import { describe, expect, it } from 'vitest'
import { Rng } from '../../bench/workloads/random.ts'
import { valueText } from '../../src/canonical.ts'
import { DEFAULTS } from '../../src/options.ts'
import { rank } from '../../src/strategies/combine.ts'
import { LearnedPredictor, type LearnSettings } from '../../src/strategies/learner.ts'
import type { Candidate, ObservedQuery } from '../../src/strategies/types.ts'

type Read = ObservedQuery & { label: string }

const keyOf = (model: string, operation: string, args: unknown) => `${model}.${operation}${valueText(args)}`

function keysOf(candidate: Candidate): Set<string> {
  const { model, operation, args } = candidate.query
  if (candidate.fanOut === undefined) return new Set([keyOf(model, operation, args)])
  return new Set(candidate.fanOut.values.map((value) => keyOf(model, candidate.fanOut!.operation, candidate.fanOut!.argsFor(value))))
}

const login = (user: { id: number; nickname: string; password: string }, label: string): Read => ({
  label,
  model: 'User',
  operation: 'findFirst',
  args: { where: { nickname: user.nickname, password: user.password }, select: { id: true } },
  result: { id: user.id },
})

/** Five reads of items, none holding the session's user id or credentials. */
function browse(rng: Rng, reads: Read[]): void {
  const categories = Array.from({ length: 6 }, (_, i) => ({ id: i + 1, name: `category ${i + 1}` }))
  reads.push({ label: 'browse', model: 'Category', operation: 'findMany', args: { orderBy: { id: 'asc' } }, result: categories })
  const categoryId = rng.range(1, 6)
  const items = Array.from({ length: 5 }, () => ({ id: rng.range(1, 1_000_000), categoryId, sellerId: rng.range(100_000, 200_000) }))
  reads.push({ label: 'browse', model: 'Item', operation: 'findMany', args: { where: { categoryId }, take: 5 }, result: items })
  const item = items[rng.int(items.length)]
  reads.push({ label: 'browse', model: 'Item', operation: 'findUnique', args: { where: { id: item.id } }, result: item })
  reads.push({ label: 'browse', model: 'Bid', operation: 'findMany', args: { where: { itemId: item.id }, take: 3 }, result: [{ id: rng.range(1, 1_000_000), bid: 5 }] })
  reads.push({ label: 'browse', model: 'Item', operation: 'findUnique', args: { where: { id: item.id }, select: { name: true } }, result: { name: 'an item' } })
}

/**
 * A session: log in, browse, log in again with the same credentials, read the user by the id
 * the login gave, four reads of regions, then the comments to the user by that id.
 */
function session(rng: Rng): Read[] {
  const id = rng.range(1, 99_999)
  const user = { id, nickname: `user${id}`, password: `pw${rng.range(1, 1_000_000)}` }
  const reads: Read[] = [login(user, 'first login')]
  browse(rng, reads)
  reads.push(login(user, 'second login'))
  reads.push({ label: 'user', model: 'User', operation: 'findUnique', args: { where: { id } }, result: { id, nickname: user.nickname, rating: rng.range(0, 50) } })
  const regionId = rng.range(1, 20)
  reads.push({ label: 'browse', model: 'Region', operation: 'findUnique', args: { where: { id: regionId } }, result: { id: regionId, name: `region ${regionId}` } })
  const items = Array.from({ length: 4 }, () => ({ id: rng.range(1, 1_000_000), regionId, sellerId: rng.range(100_000, 200_000) }))
  reads.push({ label: 'browse', model: 'Item', operation: 'findMany', args: { where: { regionId }, take: 4 }, result: items })
  const item = items[rng.int(items.length)]
  reads.push({ label: 'browse', model: 'Item', operation: 'findUnique', args: { where: { id: item.id }, include: { seller: true } }, result: { ...item, seller: { id: item.sellerId } } })
  reads.push({ label: 'browse', model: 'Bid', operation: 'aggregate', args: { where: { itemId: item.id }, _max: { bid: true } }, result: { _max: { bid: 9 } } })
  reads.push({ label: 'comments by user id', model: 'Comment', operation: 'findMany', args: { where: { toUserId: id }, orderBy: { id: 'asc' } }, result: [] })
  return reads
}

/** Top-1 and top-3 of the learner per label over `sessions` (each read's predictions ranked as the extension ranks them). */
function replay(sessions: readonly Read[][], settings: LearnSettings = { ...DEFAULTS.learn }) {
  const learner = new LearnedPredictor(settings)
  const scores = new Map<string, { reads: number; top1: number; top3: number }>()
  let at = 0
  sessions.forEach((reads, s) => {
    let predicted: Set<string>[] = []
    for (const read of reads) {
      const key = keyOf(read.model, read.operation, read.args)
      let score = scores.get(read.label)
      if (score === undefined) scores.set(read.label, (score = { reads: 0, top1: 0, top3: 0 }))
      // The second half is scored: by then every source is learned.
      if (s >= sessions.length / 2) {
        const found = predicted.findIndex((keys) => keys.has(key))
        score.reads++
        if (found === 0) score.top1++
        if (found >= 0 && found < 3) score.top3++
      }
      at += 10
      predicted = rank(learner.observe({ session: { sessionId: `s${s}` }, query: read, at }), { minProbability: 0, maxPerTrigger: 3 }).map(keysOf)
    }
  })
  const rate = (label: string) => {
    const { reads, top1, top3 } = scores.get(label)!
    return { top1: top1 / reads, top3: top3 / reads }
  }
  return { rate, learner }
}

const sessions = (count: number, seed: number) => {
  const rng = new Rng(seed)
  return Array.from({ length: count }, () => session(rng))
}

describe('recall: a value a session gave or read beyond its history', () => {
  it('predicts the second login with the credentials of the first, five reads and more before', () => {
    const { rate } = replay(sessions(200, 21))
    // The first login's credentials are new: nothing can predict them.
    expect(rate('first login').top3).toBe(0)
    expect(rate('second login').top1).toBeGreaterThan(0.95)
  })

  it("predicts a read by the session's user id, a field of the login's row read six reads before", () => {
    const { rate } = replay(sessions(200, 22))
    // The read just after the login takes the id from it (a source in the history, as before).
    expect(rate('user').top1).toBeGreaterThan(0.95)
    expect(rate('comments by user id').top1).toBeGreaterThan(0.95)
  })

  it('recalls at most maxRecall templates per session: the login is forgotten behind more templates than that', () => {
    // Browsing reads five templates between the logins, four other ones after: with room for
    // four, the first login is forgotten before the second, and the user's read before the comments.
    const { rate, learner } = replay(sessions(200, 23), { ...DEFAULTS.learn, maxRecall: 4 })
    expect(learner.sizes().longestRecall).toBe(4)
    expect(learner.sizes().recallSessions).toBe(200)
    expect(rate('second login').top3).toBe(0)
    expect(rate('comments by user id').top3).toBe(0)
  })

  it('recalls sessions up to maxSessions, the least recently active forgotten first', () => {
    const { learner } = replay(sessions(60, 24), { ...DEFAULTS.learn, maxSessions: 25 })
    expect(learner.sizes().recallSessions).toBe(25)
    expect(learner.sizes().longestRecall).toBeLessThanOrEqual(DEFAULTS.learn.maxRecall)
  })
})
