import { describe, expect, it } from 'vitest'
import { batchRowReads, type Followed } from '../../src/strategies/row-batches.ts'
import type { Candidate } from '../../src/strategies/types.ts'

const lookup = (id: unknown, probability = 0.8, select: Record<string, boolean> = { nickname: true }): Candidate => ({
  query: { model: 'User', operation: 'findUnique', args: { where: { id }, select } },
  probability,
  strategy: 'transitions',
})
const from = (candidates: Candidate[]): Followed<string>[] => candidates.map((candidate, i) => ({ candidate, from: `row ${i}` }))

describe('batchRowReads', () => {
  it('gathers single-row reads that differ only in the value matched on into one batched read, each row its own read', () => {
    const { batches, singles } = batchRowReads(from([lookup(3, 0.5), lookup(1, 0.9), lookup(3, 0.7), lookup(2)]), 50)
    expect(singles).toStrictEqual([])
    expect(batches).toHaveLength(1)
    const { candidate, fromOf } = batches[0]
    expect(candidate.query).toStrictEqual({ model: 'User', operation: 'findMany', args: { where: { id: { in: [3, 1, 2] } }, select: { nickname: true, id: true } } })
    expect(candidate.probability).toBe(0.9)
    expect(candidate.fanOut).toMatchObject({ operation: 'findUnique', field: 'id', strip: true, values: [3, 1, 2] })
    expect(candidate.fanOut.argsFor(1)).toStrictEqual({ where: { id: 1 }, select: { nickname: true } })
    expect([fromOf(3), fromOf(1), fromOf(2)]).toStrictEqual(['row 0', 'row 1', 'row 3'])
  })

  it('keeps apart reads of other shapes, reads alone of their kind, and those it cannot batch; at most maxRows values', () => {
    const composite: Candidate = { query: { model: 'Follow', operation: 'findUnique', args: { where: { followerId_followeeId: { followerId: 1, followeeId: 2 } } } }, probability: 0.8, strategy: 'transitions' }
    const list: Candidate = { query: { model: 'Post', operation: 'findMany', args: { where: { authorId: 1 } } }, probability: 0.8, strategy: 'transitions' }
    const omitted: Candidate = { query: { model: 'User', operation: 'findUnique', args: { where: { id: 9 }, omit: { id: true } } }, probability: 0.8, strategy: 'transitions' }
    const { batches, singles } = batchRowReads(from([lookup(1), lookup(2), lookup(3), lookup(4, 0.8, { email: true }), composite, list, omitted]), 2)
    expect(batches.map((batch) => batch.candidate.fanOut.values)).toStrictEqual([[1, 2]])
    expect(singles.map((single) => single.candidate)).toStrictEqual([composite, list, omitted, lookup(4, 0.8, { email: true })])
  })
})
