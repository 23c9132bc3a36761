import { describe, expect, it } from 'vitest'
import { withLatency } from '../../bench/latency.ts'
import { prefetch, rule } from '../../src/index.ts'
import type { PrefetchOptions } from '../../src/types.ts'
import { createTestClient, spyExtension } from '../helpers/db.ts'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

// Lead time: a read joining a speculative query in flight predicts what follows it as a miss
// would, so the page's next read is ready when it is asked.
const env = await setup()
const rows = await seed(env.bare)

/**
 * A client whose SELECTs on `table` can be held before their result is returned: `hold()` makes
 * the next ones wait until `release()`; `gate.reached` says whether one is being held.
 */
async function gatedClient(table: string, options: PrefetchOptions) {
  const gate = { hold: undefined as Promise<void> | undefined, release: () => {}, reached: false }
  const gated = withLatency(env.db.adapterFactory(), 0, (sql) => {
    if (gate.hold === undefined || !/select/i.test(sql) || !new RegExp(`[\`"]${table}[\`"]`).test(sql)) return undefined
    gate.reached = true
    return gate.hold
  })
  const spy = spyExtension()
  const base = await createTestClient({ ...env.db, adapterFactory: () => gated.factory })
  const prisma = base.$extends(prefetch(options)).$extends(spy.extension)
  const hold = () => {
    gate.reached = false
    gate.hold = new Promise<void>((resolve) => (gate.release = resolve))
  }
  const release = () => {
    gate.hold = undefined
    gate.release()
  }
  return { prisma, base, spy, trips: gated.trips, gate, hold, release }
}

const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1))
}

const postsOfUser = rule('User.findUnique').then('Post.findMany', ({ result }) => (result ? { where: { authorId: result.id } } : null))
const authorOfPost = rule('Post.findUnique').then('User.findUnique', ({ result }) => (result ? { where: { id: result.authorId } } : null))

describe('a read that joins a speculative query in flight (a late hit)', () => {
  it('predicts its successors from the result it joined, so the next read is served on time', async () => {
    const { prisma, base, spy, gate, hold, release } = await gatedClient('User', { rules: [postsOfUser] })
    await prisma.user.count() // connect
    prisma.$prefetch.resetStats()
    hold()
    const args = { where: { id: rows.bob.id } }
    // A speculative read that predicts nothing itself: only the read that joins it can.
    const warming = prisma.$prefetch.warm({ model: 'User', operation: 'findUnique', args })
    await until(() => gate.reached)
    const reading = prisma.user.findUnique(args).then((user) => user)
    await new Promise((resolve) => setTimeout(resolve, 10))
    release()
    const [user] = await Promise.all([reading, warming])
    await prisma.$prefetch.idle()
    expect(prisma.$prefetch.stats()).toMatchObject({ lateHits: 1, misses: 0 })

    const calls = spy.calls.length
    const posts = await prisma.post.findMany({ where: { authorId: user!.id } })
    expect(posts).toStrictEqual(await env.bare.post.findMany({ where: { authorId: rows.bob.id } }))
    expect(reached(spy.calls, calls)).toBe(0)
    const stats = prisma.$prefetch.stats()
    expect(stats.byModel.Post).toMatchObject({ reads: 1, prefetchHits: 1 })
    expect(stats.byStrategy.rule).toMatchObject({ issued: 1, used: 1 })
    await base.$disconnect()
  })

  it('predicts them once when the speculative read it joined predicts them too (chaining)', async () => {
    const { prisma, base, spy, gate, hold, release } = await gatedClient('User', { rules: [authorOfPost, postsOfUser], learn: { chainDepth: 2 } })
    await prisma.user.count() // connect
    prisma.$prefetch.resetStats()
    hold()
    const post = (await prisma.post.findUnique({ where: { id: rows.posts[0].id } }))!
    // The rule's speculative read of the author is held at the database: the page's read joins it.
    await until(() => gate.reached)
    const reading = prisma.user.findUnique({ where: { id: post.authorId } }).then((user) => user)
    await new Promise((resolve) => setTimeout(resolve, 10))
    release()
    const user = await reading
    await prisma.$prefetch.idle()

    const calls = spy.calls.length
    const posts = await prisma.post.findMany({ where: { authorId: user!.id } })
    expect(posts).toStrictEqual(await env.bare.post.findMany({ where: { authorId: post.authorId } }))
    expect(reached(spy.calls, calls)).toBe(0)
    expect(spy.speculative.filter((call) => call.model === 'Post' && call.operation === 'findMany')).toHaveLength(1)
    const stats = prisma.$prefetch.stats()
    expect(stats).toMatchObject({ lateHits: 1 })
    expect(stats.byModel.Post).toMatchObject({ prefetchHits: 1 })
    await base.$disconnect()
  })
})
