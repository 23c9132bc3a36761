import { describe, expect, it } from 'vitest'
import { DEFAULTS } from '../../src/options.ts'
import { rank } from '../../src/strategies/combine.ts'
import { LearnedPredictor, RowField, type LearnSettings } from '../../src/strategies/learner.ts'
import type { Candidate, ObservedQuery, SessionRef } from '../../src/strategies/types.ts'
import { keyOrder } from '../support/key-order.ts'

/** A learner with the default settings, some overridden, and a clock the test drives. */
function learner(overrides: Partial<LearnSettings> = {}) {
  const predictor = new LearnedPredictor({ ...DEFAULTS.learn, ...overrides })
  let now = 0
  return {
    predictor,
    /** Observes a read of `session` one second after the previous one; returns the ranked candidates. */
    read(session: SessionRef, query: ObservedQuery, gapMs = 1000): Candidate[] {
      now += gapMs
      return rank(predictor.observe({ session, query, at: now }), { minProbability: 0.3, maxPerTrigger: 3 })
    },
  }
}

const user = (id: number) => ({ id, name: `user ${id}` })
const posts = (authorId: number, n = 3) => Array.from({ length: n }, (_, i) => ({ id: authorId * 100 + i, authorId, title: `post ${i}` }))

describe('LearnedPredictor', () => {
  it('names, for a read that has only started, the read that follows it with an argument from its row', () => {
    const { predictor, read } = learner()
    for (let i = 1; i <= 8; i++) {
      const session = { sessionId: `s${i}` }
      read(session, { model: 'User', operation: 'findUnique', args: { where: { email: `u${i}@x` } }, result: user(i) })
      read(session, { model: 'Post', operation: 'findMany', args: { where: { authorId: i, title: 'post 0' }, take: 10 }, result: posts(i) })
    }
    const started = { session: { sessionId: 'new' }, query: { model: 'User', operation: 'findUnique', args: { where: { email: 'z@x' } } }, at: 100_000 }
    const [dependent, ...others] = predictor.dependents(started)
    expect(others).toEqual([])
    expect(dependent).toMatchObject({ field: 'id', path: 'where.authorId', query: { model: 'Post', operation: 'findMany' } })
    expect(dependent.probability).toBeCloseTo(1)
    // The constant stays, the row's value is a placeholder.
    expect(dependent.query.args).toEqual({ where: { authorId: new RowField('id'), title: 'post 0' }, take: 10 })
    expect((dependent.query.args.where as { authorId: unknown }).authorId).toBeInstanceOf(RowField)
    // A read by id: the posts read's argument is the read's own argument, not a field of its row.
    for (let i = 1; i <= 8; i++) {
      const session = { sessionId: `t${i}` }
      read(session, { model: 'Comment', operation: 'findUnique', args: { where: { id: i } }, result: { id: i, postId: i } })
      read(session, { model: 'Post', operation: 'findUnique', args: { where: { id: i } }, result: posts(i)[0] })
    }
    expect(predictor.dependents({ ...started, query: { model: 'Comment', operation: 'findUnique', args: { where: { id: 99 } } } })).toEqual([])
    // A shape never seen: nothing.
    expect(predictor.dependents({ ...started, query: { model: 'User', operation: 'findFirst', args: { where: { name: 'z' } } } })).toEqual([])
  })

  it('dependents: an in list made of several fields of the row, each a placeholder, with every field named', () => {
    const { predictor, read } = learner()
    for (let i = 1; i <= 8; i++) {
      const session = { sessionId: `in${i}` }
      // One of the row's keys null: the list is the others, in the row's order.
      const row = { aId: 10 + i, bId: i % 2 === 0 ? null : 20 + i, cId: 30 + i }
      read(session, { model: 'Item', operation: 'findUnique', args: { where: { id: i }, select: { aId: true, bId: true, cId: true } }, result: row })
      const ids = [row.aId, row.bId, row.cId].filter((id) => id !== null)
      read(session, { model: 'Item', operation: 'findMany', args: { where: { id: { in: ids } }, select: { id: true } }, result: ids.map((id) => ({ id })) })
    }
    const started = { session: { sessionId: 'in-new' }, query: { model: 'Item', operation: 'findUnique', args: { where: { id: 99 }, select: { aId: true, bId: true, cId: true } } }, at: 100_000 }
    const [dependent] = predictor.dependents(started)
    expect(dependent).toMatchObject({ field: 'aId', fields: ['aId', 'bId', 'cId'], path: 'where.id.in', query: { model: 'Item', operation: 'findMany' } })
    expect(dependent.query.args).toEqual({ where: { id: { in: [new RowField('aId'), new RowField('bId'), new RowField('cId')] } }, select: { id: true } })
  })

  it('learns that a findMany by author follows a findUnique of a user, with the author from the result', () => {
    const { read } = learner()
    for (let i = 1; i <= 8; i++) {
      const session = { sessionId: `s${i}` }
      read(session, { model: 'User', operation: 'findUnique', args: { where: { email: `u${i}@x` } }, result: user(i) })
      read(session, { model: 'Post', operation: 'findMany', args: { where: { authorId: i }, take: 10 }, result: posts(i) })
    }
    // A user never seen before: the argument comes from this read's result, not from memory.
    const candidates = read({ sessionId: 'new' }, { model: 'User', operation: 'findUnique', args: { where: { email: 'z@x' } }, result: user(42) })
    expect(candidates[0]).toMatchObject({
      query: { model: 'Post', operation: 'findMany', args: { where: { authorId: 42 }, take: 10 } },
      strategy: 'transitions',
    })
    expect(candidates[0].probability).toBeCloseTo(1)
  })

  it('follows a speculative read: predicts from its result what comes after it, and learns nothing', () => {
    const { predictor, read } = learner()
    for (let i = 1; i <= 8; i++) {
      const session = { sessionId: `f${i}` }
      read(session, { model: 'Post', operation: 'findUnique', args: { where: { id: i } }, result: { id: i, authorId: 10 + i } })
      read(session, { model: 'User', operation: 'findUnique', args: { where: { id: 10 + i } }, result: user(10 + i) })
      read(session, { model: 'Post', operation: 'findMany', args: { where: { authorId: 10 + i }, take: 10 }, result: posts(10 + i) })
    }
    const session = { sessionId: 'f-new' }
    read(session, { model: 'Post', operation: 'findUnique', args: { where: { id: 99 } }, result: { id: 99, authorId: 42 } })
    const before = predictor.sizes()
    // The user read has not been made; it is running speculatively and its result just came in.
    const speculative = { model: 'User', operation: 'findUnique', args: { where: { id: 42 } } }
    const followers = rank(predictor.follow(session, [{ ...speculative, result: user(42) }], 10_000), { minProbability: 0.3, maxPerTrigger: 3 })
    expect(followers[0]?.query).toEqual({ model: 'Post', operation: 'findMany', args: { where: { authorId: 42 }, take: 10 } })
    // Started but not finished: only what its arguments already tell (here the author is best told
    // by the user row itself, so nothing yet), never a guess at its result.
    for (const early of predictor.follow(session, [speculative], 10_000)) expect(followers.map((f) => f.query)).toContainEqual(early.query)
    // A shape never seen ends the chain.
    expect(predictor.follow(session, [{ model: 'Tag', operation: 'findMany', args: {} }], 10_000)).toEqual([])
    expect(predictor.sizes()).toEqual(before)
  })

  it('keeps the specific sources of an argument when one read matches more of them than maxSources', () => {
    // The author id of the last read is the user read's argument and its row's id, and also sits in
    // two fields of some row of the list before: with room for two sources, the two exact ones must
    // stay ("any row" sources keep holding, but predict nothing exact, and would crowd them out).
    const { read } = learner({ maxSources: 2 })
    const listing = (author: number) =>
      Array.from({ length: 10 }, (_, k) => ({ id: 1000 + k, authorId: k === 5 ? author : 900 + k, editorId: k === 5 ? author : 800 + k }))
    for (let i = 1; i <= 8; i++) {
      const session = { sessionId: `m${i}` }
      read(session, { model: 'Post', operation: 'findMany', args: { take: 10 }, result: listing(i) })
      read(session, { model: 'User', operation: 'findUnique', args: { where: { id: i } }, result: user(i) })
      read(session, { model: 'Post', operation: 'findMany', args: { where: { authorId: i } }, result: posts(i) })
    }
    const session = { sessionId: 'm-new' }
    read(session, { model: 'Post', operation: 'findMany', args: { take: 10 }, result: listing(42) })
    const candidates = read(session, { model: 'User', operation: 'findUnique', args: { where: { id: 42 } }, result: user(42) })
    expect(candidates.map((c) => c.query)).toContainEqual({ model: 'Post', operation: 'findMany', args: { where: { authorId: 42 } } })
  })

  it('predicts the next page of a pagination (skip + take) and of a cursor (the last row id)', () => {
    const { read } = learner()
    for (let s = 0; s < 4; s++) {
      const session = { sessionId: `p${s}` }
      for (let page = 0; page < 4; page++) {
        read(session, { model: 'Post', operation: 'findMany', args: { orderBy: { id: 'asc' }, skip: page * 20, take: 20 }, result: posts(page, 2) })
      }
    }
    const next = read({ sessionId: 'p-new' }, { model: 'Post', operation: 'findMany', args: { orderBy: { id: 'asc' }, skip: 0, take: 20 }, result: posts(0, 2) })
    // The same template follows, its skip the last one + 20.
    expect(next[0].query.args).toEqual({ orderBy: { id: 'asc' }, skip: 20, take: 20 })
    const page2 = read({ sessionId: 'p-new' }, { model: 'Post', operation: 'findMany', args: { orderBy: { id: 'asc' }, skip: 20, take: 20 }, result: posts(1, 2) })
    expect(page2[0].query.args).toEqual({ orderBy: { id: 'asc' }, skip: 40, take: 20 })

    const cursor = learner()
    for (let s = 0; s < 4; s++) {
      const session = { sessionId: `c${s}` }
      let after = 0
      for (let page = 0; page < 4; page++) {
        const rows = [{ id: after + 3 }, { id: after + 7 }]
        const args = page === 0 ? { take: 2, orderBy: { id: 'asc' } } : { take: 2, skip: 1, cursor: { id: after }, orderBy: { id: 'asc' } }
        cursor.read(session, { model: 'Post', operation: 'findMany', args, result: rows })
        after = rows[1].id
      }
    }
    const session = { sessionId: 'c-new' }
    cursor.read(session, { model: 'Post', operation: 'findMany', args: { take: 2, orderBy: { id: 'asc' } }, result: [{ id: 1 }, { id: 5 }] })
    const predicted = cursor.read(session, {
      model: 'Post',
      operation: 'findMany',
      args: { take: 2, skip: 1, cursor: { id: 5 }, orderBy: { id: 'asc' } },
      result: [{ id: 9 }, { id: 11 }],
    })
    expect(predicted[0].query.args).toEqual({ take: 2, skip: 1, cursor: { id: 11 }, orderBy: { id: 'asc' } })
  })

  it('fans a list out into one batched findMany of its leading rows, each row kept for its own findUnique', () => {
    const { read } = learner({ maxFanOut: 5 })
    const listing = (n: number) => Array.from({ length: 12 }, (_, i) => ({ id: n * 1000 + i, title: `item ${i}` }))
    for (let s = 0; s < 10; s++) {
      const session = { sessionId: `f${s}` }
      const rows = listing(s)
      read(session, { model: 'Item', operation: 'findMany', args: { where: { subject: 'ARTS' }, take: 12 }, result: rows })
      // The user opens a different row each time: no position holds, "any row" does.
      read(session, { model: 'Item', operation: 'findUnique', args: { where: { id: rows[(s * 5) % 12].id }, include: { author: true } }, result: rows[0] })
    }
    const rows = listing(77)
    const [candidate] = read({ sessionId: 'f-new' }, { model: 'Item', operation: 'findMany', args: { where: { subject: 'HISTORY' }, take: 12 }, result: rows })
    expect(candidate.strategy).toBe('fanOut')
    expect(candidate.query).toEqual({ model: 'Item', operation: 'findMany', args: { where: { id: { in: rows.slice(0, 5).map((r) => r.id) } }, include: { author: true } } })
    expect(candidate.fanOut!.argsFor(77003)).toEqual({ where: { id: 77003 }, include: { author: true } })
    // The list had other columns than the detail asks for: the rows cannot be reused as they are.
    expect(candidate.fanOut!.rows).toBeUndefined()
    expect(candidate.probability).toBeCloseTo(5 / 12)
  })

  it('for a loop over the rows of a list, proposes the first row and a fan-out over the rest', () => {
    const { read } = learner()
    const list = (n: number) => Array.from({ length: 3 }, (_, i) => ({ itemId: n * 10 + i }))
    for (let s = 0; s < 8; s++) {
      const session = { sessionId: `loop${s}` }
      const rows = list(s)
      read(session, { model: 'Bid', operation: 'findMany', args: { where: { userId: s } }, result: rows })
      for (const row of rows) read(session, { model: 'Item', operation: 'findUnique', args: { where: { id: row.itemId } }, result: { id: row.itemId } })
    }
    const rows = list(9)
    const candidates = read({ sessionId: 'loop-new' }, { model: 'Bid', operation: 'findMany', args: { where: { userId: 9 } }, result: rows })
    expect(candidates.map((c) => [c.strategy, c.query.args])).toEqual([
      ['transitions', { where: { id: 90 } }],
      ['fanOut', { where: { id: { in: [90, 91, 92] } } }],
    ])
  })

  it("follows speculative lookups of a list's rows as the session's own loop: the next row, and after the last one what follows the loop", () => {
    const { predictor, read } = learner()
    const list = (n: number) => Array.from({ length: 3 }, (_, i) => ({ itemId: n * 10 + i }))
    const item = (id: number): ObservedQuery => ({ model: 'Item', operation: 'findUnique', args: { where: { id } }, result: { id } })
    for (let s = 0; s < 8; s++) {
      const session = { sessionId: `loop${s}` }
      const rows = list(s)
      read(session, { model: 'Bid', operation: 'findMany', args: { where: { userId: s } }, result: rows })
      for (const row of rows) read(session, item(row.itemId))
      read(session, { model: 'User', operation: 'findUnique', args: { where: { id: s } }, result: user(s) })
    }
    const session = { sessionId: 'loop-new' }
    read(session, { model: 'Bid', operation: 'findMany', args: { where: { userId: 9 } }, result: list(9) })
    read(session, item(90))
    const before = predictor.sizes()
    // 42 reads a second apart: the speculative reads come a second after the last one.
    const next = (chain: ObservedQuery[]) => rank(predictor.follow(session, chain, 43_000), { minProbability: 0.3, maxPerTrigger: 3 }).map((c) => [c.query.model, c.query.args])
    expect(next([item(91)])).toContainEqual(['Item', { where: { id: 92 } }])
    // The lookup of the last row ends the loop: no row after it (no item 93), the read after the loop.
    expect(next([item(91), item(92)])).toEqual([['User', { where: { id: 9 } }]])
    expect(next([item(92)])).toEqual([['User', { where: { id: 9 } }]])
    expect(predictor.sizes()).toEqual(before)
  })

  it('reuses the rows of a list whose select is the one the detail asks for', () => {
    const { read } = learner()
    const list = (n: number) => Array.from({ length: 4 }, (_, i) => ({ id: n * 10 + i, name: `u${i}` }))
    for (let s = 0; s < 8; s++) {
      const session = { sessionId: `r${s}` }
      const rows = list(s)
      read(session, { model: 'User', operation: 'findMany', args: { where: { role: 'ADMIN' } }, result: rows })
      read(session, { model: 'User', operation: 'findUnique', args: { where: { id: rows[s % 4].id } }, result: rows[s % 4] })
    }
    const rows = list(9)
    const [candidate] = read({ sessionId: 'r-new' }, { model: 'User', operation: 'findMany', args: { where: { role: 'USER' } }, result: rows })
    expect(candidate.fanOut!.rows).toEqual(rows)
    expect(candidate.fanOut!.strip).toBe(false)
  })

  it('predicts with the select and include order the application used, and reuses list rows only in that order', () => {
    const detailArgs = (id: number) => ({ include: { tags: true, author: { select: { name: true, id: true } } }, where: { id } })
    for (const [listSelect, reusable] of [
      [{ title: true, id: true }, true],
      [{ id: true, title: true }, false],
    ] as const) {
      const { read } = learner({ maxFanOut: 3 })
      const list = (n: number) => Array.from({ length: 4 }, (_, i) => ({ title: `t${i}`, id: n * 10 + i }))
      for (let s = 0; s < 8; s++) {
        const session = { sessionId: `o${s}` }
        const rows = list(s)
        read(session, { model: 'Post', operation: 'findMany', args: { take: 4, select: listSelect }, result: rows })
        read(session, { model: 'Post', operation: 'findUnique', args: { where: { id: rows[s % 4].id }, select: { title: true, id: true } }, result: rows[s % 4] })
      }
      const rows = list(9)
      const [candidate] = read({ sessionId: 'o-new' }, { model: 'Post', operation: 'findMany', args: { take: 4, select: listSelect }, result: rows })
      expect(keyOrder(candidate.fanOut!.argsFor(91))).toEqual(keyOrder({ select: { title: true, id: true }, where: { id: 91 } }))
      expect(Object.keys(candidate.query.args.select as object)).toEqual(['title', 'id'])
      // The list's rows have the detail's field order only when its select has it.
      expect(candidate.fanOut!.rows !== undefined).toBe(reusable)
    }
    const { read } = learner()
    for (let s = 0; s < 8; s++) {
      const session = { sessionId: `i${s}` }
      read(session, { model: 'User', operation: 'findUnique', args: { where: { id: s } }, result: { id: s } })
      read(session, { model: 'Post', operation: 'findUnique', args: detailArgs(s), result: {} })
    }
    const [candidate] = read({ sessionId: 'i-new' }, { model: 'User', operation: 'findUnique', args: { where: { id: 42 } }, result: { id: 42 } })
    expect(keyOrder(candidate.query.args)).toEqual(keyOrder(detailArgs(42)))
  })

  it('ranks two candidates whose include differs only in order as two reads', () => {
    const candidate = (include: object, probability: number): Candidate => ({ query: { model: 'User', operation: 'findUnique', args: { where: { id: 1 }, include } }, probability, strategy: 'rule' })
    const ranked = rank([candidate({ posts: true, comments: true }, 0.9), candidate({ comments: true, posts: true }, 0.8), candidate({ posts: true, comments: true }, 0.5)], { minProbability: 0, maxPerTrigger: 5 })
    expect(ranked.map((c) => [Object.keys(c.query.args.include as object), c.probability])).toEqual([
      [['posts', 'comments'], 0.9],
      [['comments', 'posts'], 0.8],
    ])
  })

  it('adds the key field to a select that lacks it, and strips it from each row', () => {
    const { read } = learner()
    for (let s = 0; s < 8; s++) {
      const session = { sessionId: `x${s}` }
      const rows = [{ id: s * 2 }, { id: s * 2 + 1 }]
      read(session, { model: 'User', operation: 'findMany', args: { take: 2 }, result: rows })
      read(session, { model: 'User', operation: 'findUnique', args: { where: { id: rows[s % 2].id }, select: { name: true } }, result: { name: 'n' } })
    }
    const [candidate] = read({ sessionId: 'x-new' }, { model: 'User', operation: 'findMany', args: { take: 2 }, result: [{ id: 50 }, { id: 51 }] })
    expect(candidate.query.args).toEqual({ where: { id: { in: [50, 51] } }, select: { name: true, id: true } })
    expect(candidate.fanOut!.strip).toBe(true)
  })

  it('derives a list argument from the fields of one row and from a column of a list', () => {
    const { read } = learner()
    for (let s = 0; s < 6; s++) {
      const session = { sessionId: `l${s}` }
      const item = { related1: s + 1, related2: null, related3: s + 3 }
      read(session, { model: 'Item', operation: 'findUnique', args: { where: { id: s }, select: { related1: true, related2: true, related3: true } }, result: item })
      const ranked = [{ itemId: s + 10 }, { itemId: s + 20 }]
      read(session, { model: 'Item', operation: 'findMany', args: { where: { id: { in: [s + 1, s + 3] } } }, result: [] })
      read(session, { model: 'OrderLine', operation: 'groupBy', args: { by: ['itemId'], where: { qty: { gt: s } } }, result: ranked })
      read(session, { model: 'Item', operation: 'findMany', args: { where: { id: { in: ranked.map((r) => r.itemId) } }, select: { id: true } }, result: [] })
    }
    const session = { sessionId: 'l-new' }
    const related = read(session, {
      model: 'Item',
      operation: 'findUnique',
      args: { where: { id: 99 }, select: { related1: true, related2: true, related3: true } },
      result: { related1: 7, related2: 8, related3: null },
    })
    // Learned: related1 and related3, nulls dropped (related2 was always null in training).
    expect(related[0].query.args).toEqual({ where: { id: { in: [7] } } })
    read(session, { model: 'Item', operation: 'findMany', args: { where: { id: { in: [7, 8] } } }, result: [] })
    const byColumn = read(session, { model: 'OrderLine', operation: 'groupBy', args: { by: ['itemId'], where: { qty: { gt: 3 } } }, result: [{ itemId: 5 }, { itemId: 6 }] })
    expect(byColumn[0].query.args).toEqual({ where: { id: { in: [5, 6] } }, select: { id: true } })
  })

  it('follows a change of behaviour halfway (aging)', () => {
    const { read } = learner({ agingLimit: 20 })
    const a = { model: 'User', operation: 'findUnique', args: { where: { id: 1 } }, result: user(1) }
    const b = { model: 'Post', operation: 'count', args: { where: { authorId: 1 } }, result: 3 }
    const c = { model: 'Profile', operation: 'findUnique', args: { where: { userId: 1 } }, result: null }
    const predictedAfterA = (session: string) => read({ sessionId: session }, a)[0]?.query.model
    for (let s = 0; s < 60; s++) {
      read({ sessionId: `before${s}` }, a)
      read({ sessionId: `before${s}` }, b)
    }
    expect(predictedAfterA('probe1')).toBe('Post')
    for (let s = 0; s < 60; s++) {
      read({ sessionId: `after${s}` }, a)
      read({ sessionId: `after${s}` }, c)
    }
    expect(predictedAfterA('probe2')).toBe('Profile')
  })

  it('uses a second-order context when it has support, and backs off to the first order when not', () => {
    const { read } = learner()
    const q = (model: string) => ({ model, operation: 'findMany', args: {}, result: [] })
    // After A then X comes B; after C then X comes D. First order alone (after X) cannot tell.
    for (let s = 0; s < 10; s++) {
      for (const [first, then] of [['A', 'B'], ['C', 'D']]) {
        const session = { sessionId: `${first}${s}` }
        read(session, q(first))
        read(session, q('X'))
        read(session, q(then))
      }
    }
    const viaA = { sessionId: 'viaA' }
    read(viaA, q('A'))
    expect(read(viaA, q('X')).map((c) => c.query.model)).toEqual(['B'])
    // A context never seen (E then X): the first-order context says B or D, half each.
    const viaE = { sessionId: 'viaE' }
    read(viaE, q('E'))
    expect(
      read(viaE, q('X'))
        .map((c) => [c.query.model, c.probability])
        .sort(),
    ).toEqual([
      ['B', 0.5],
      ['D', 0.5],
    ])
  })

  it("blends a regular user's own transitions with the global ones", () => {
    const { read } = learner()
    const q = (model: string) => ({ model, operation: 'findMany', args: {}, result: [] })
    for (let s = 0; s < 50; s++) {
      read({ sessionId: `g${s}`, userId: `g${s}` }, q('A'))
      read({ sessionId: `g${s}`, userId: `g${s}` }, q('B'))
    }
    for (let s = 0; s < 30; s++) {
      read({ sessionId: `me${s}`, userId: 'me' }, q('A'))
      read({ sessionId: `me${s}`, userId: 'me' }, q('C'))
    }
    const mine = read({ sessionId: 'me-now', userId: 'me' }, q('A'))
    expect(mine[0].query.model).toBe('C')
    const newcomer = read({ sessionId: 'new', userId: 'newcomer' }, q('A'))
    expect(newcomer[0].query.model).toBe('B')
  })

  it('does not count reads further apart than the window as following each other', () => {
    const { read, predictor } = learner({ windowMs: 5000 })
    const q = (model: string) => ({ model, operation: 'findMany', args: {}, result: [] })
    for (let s = 0; s < 10; s++) {
      read({ sessionId: `w${s}` }, q('A'))
      read({ sessionId: `w${s}` }, q('B'), 60_000)
    }
    expect(predictor.describe(10).transitions).toEqual([])
    expect(read({ sessionId: 'w-new' }, q('A'))).toEqual([])
  })

  it('anticipates, before a read completes, only the reads whose arguments are known already', () => {
    const { read, predictor } = learner()
    for (let i = 1; i <= 6; i++) {
      const session = { sessionId: `ant${i}` }
      // by id: the posts' author is the argument of the read itself
      read(session, { model: 'User', operation: 'findUnique', args: { where: { id: i } }, result: user(i) })
      read(session, { model: 'Post', operation: 'findMany', args: { where: { authorId: i } }, result: posts(i) })
      // by email: the author id is known only from the result
      read(session, { model: 'User', operation: 'findFirst', args: { where: { email: `u${i}@x` } }, result: user(i + 50) })
      read(session, { model: 'Comment', operation: 'findMany', args: { where: { authorId: i + 50 } }, result: [] })
    }
    const at = 1e9
    const byId = predictor.anticipate({ session: { sessionId: 'early' }, query: { model: 'User', operation: 'findUnique', args: { where: { id: 77 } } }, at })
    expect(byId.map((c) => c.query)).toEqual([{ model: 'Post', operation: 'findMany', args: { where: { authorId: 77 } } }])
    const byEmail = predictor.anticipate({ session: { sessionId: 'early2' }, query: { model: 'User', operation: 'findFirst', args: { where: { email: 'q@x' } } }, at })
    expect(byEmail).toEqual([])
    // Anticipating learns nothing: the sessions it saw have no history.
    expect(predictor.describe(50).transitions.every((t) => t.support === 6)).toBe(true)
  })

  it('shares what it learned as plain data another learner merges, and then predicts the same', () => {
    const a = learner()
    for (let i = 1; i <= 6; i++) {
      const session = { sessionId: `sh${i}` }
      a.read(session, { model: 'User', operation: 'findUnique', args: { where: { email: `u${i}@x` } }, result: user(i) })
      a.read(session, { model: 'Post', operation: 'findMany', args: { where: { authorId: i }, take: 10 }, result: posts(i) })
    }
    const shared = JSON.parse(JSON.stringify(a.predictor.share(100)))
    expect(shared.transitions.length).toBeGreaterThan(0)
    const b = learner()
    b.predictor.merge(shared)
    const probe = { model: 'User', operation: 'findUnique', args: { where: { email: 'new@x' } }, result: user(99) }
    expect(b.read({ sessionId: 'b' }, probe)).toEqual(a.read({ sessionId: 'a' }, probe))
    expect(b.read({ sessionId: 'b2' }, probe)[0].query.args).toEqual({ where: { authorId: 99 }, take: 10 })
    expect(() => b.predictor.merge({ version: 2 } as never)).toThrow(/unknown format/)
  })

  it('describes what it learned as plain data', () => {
    const { read, predictor } = learner()
    for (let i = 1; i <= 6; i++) {
      const session = { sessionId: `d${i}` }
      read(session, { model: 'User', operation: 'findUnique', args: { where: { id: i } }, result: user(i) })
      read(session, { model: 'Post', operation: 'findMany', args: { where: { authorId: i } }, result: posts(i) })
    }
    const model = predictor.describe(5)
    expect(JSON.parse(JSON.stringify(model))).toEqual(model)
    expect(model.transitions[0]).toEqual({
      after: ['User.findUnique{where:{id:?}}'],
      next: 'Post.findMany{where:{authorId:?}}',
      probability: 1,
      support: 6,
      arguments: [{ slot: 'where.authorId', from: 'where.id of the read before (User.findUnique{where:{id:?}})', confidence: 1, support: 6 }],
    })
  })
})
