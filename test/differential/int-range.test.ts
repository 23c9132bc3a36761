// Found by the pages lane: a learned step (ids 2000000000, 2, then 1) extrapolated a post id outside
// 32 bits; Prisma sent that speculative findUnique in one query with the application's, and
// PostgreSQL's "out of range for type integer" failed the application's read too.
import { expect, it } from 'vitest'
import { Ref } from './model.ts'
import { provider, replay } from './runner.ts'

const page = (session: number, pick: number) => ({
  kind: 'page' as const,
  bind: { lane: 0, session, forSession: false },
  parent: { model: 'Post', operation: 'findUnique', args: { where: new Ref('Post', ['id'], pick, 'where'), omit: { meta: true } } },
  child: { model: 'Comment', operation: 'findMany', args: { distinct: ['createdAt'], orderBy: [{ id: 'asc' }], include: { author: true } } },
  fk: 'postId',
  ref: 'id',
})

it('differential: no speculative read with an Int out of range goes with the application read', async () => {
  const failure = await replay({ store: 'memory', lanes: [{ omit: false, other: 'none', joins: provider === 'postgresql' }] }, [page(2, -1), page(2, 13), page(0, 0)])
  expect(failure).toBeUndefined()
}, 120_000)
