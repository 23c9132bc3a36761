import { describe, expect, it } from 'vitest'
import { estimateSize } from '../../src/cache/store.ts'
import { rule } from '../../src/index.ts'
import { reached, setup } from '../support/setup.ts'
import { gatedClient, until } from '../support/gated.ts'
import { seed } from '../support/seed.ts'

// Lead time: a read joining a speculative query in flight predicts what follows it as a miss
// would, so the page's next read is ready when it is asked.
const env = await setup()
const rows = await seed(env.bare)


const postsOfUser = rule('User.findUnique').then('Post.findMany', ({ result }) => (result ? { where: { authorId: result.id } } : null))
const authorOfPost = rule('Post.findUnique').then('User.findUnique', ({ result }) => (result ? { where: { id: result.authorId } } : null))

describe('a read that joins a speculative query in flight (a late hit)', () => {
  it('predicts its successors from the result it joined, so the next read is served on time', async () => {
    const { prisma, base, spy, gate, hold, release } = await gatedClient(env.db, 'User', { rules: [postsOfUser] })
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
    const { prisma, base, spy, gate, hold, release } = await gatedClient(env.db, 'User', { rules: [authorOfPost, postsOfUser], learn: { chainDepth: 2 } })
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

type Client = Awaited<ReturnType<typeof env.client>>['prisma']

const list = { select: { id: true, title: true }, orderBy: { id: 'asc' as const }, take: 40 }
const detail = (id: number) => ({ where: { id }, include: { author: true, tags: true } })

/** Trains on list pages each followed by the detail of one of their rows, then forgets the results. */
async function train(prisma: Client) {
  for (let s = 0; s < 8; s++) {
    await prisma.$prefetch.session(`browse-${s}`, async () => {
      const posts = await prisma.post.findMany(list)
      await prisma.post.findUnique(detail(posts[(s * 3) % posts.length].id))
    })
  }
  await prisma.$prefetch.idle()
  await prisma.$prefetch.invalidate()
  prisma.$prefetch.resetStats()
}

/** The `in` lists of the batched reads that went to the database speculatively from `since` on. */
const batches = (calls: ReadonlyArray<{ model?: string; operation: string; args: unknown }>, since: number) =>
  calls
    .slice(since)
    .filter((call) => call.model === 'Post' && call.operation === 'findMany')
    .map((call) => (call.args as { where: { id: { in: number[] } } }).where.id.in)

describe('think-time fan-out', () => {
  it('covers the whole list a page showed (more than 20 rows) with one batched read run after it, by default', async () => {
    const { prisma, spy } = await env.client({})
    await train(prisma)
    await prisma.$prefetch.session('browse-new', async () => {
      const speculative = spy.speculative.length
      const posts = await prisma.post.findMany(list)
      expect(posts.length).toBe(rows.posts.length)
      expect(posts.length).toBeGreaterThan(20)
      // The user reads the page: the fan-out runs meanwhile.
      await prisma.$prefetch.idle()
      expect(batches(spy.speculative, speculative)).toStrictEqual([posts.map((post) => post.id)])
      const calls = spy.calls.length
      for (const post of posts) expect(await prisma.post.findUnique(detail(post.id))).toStrictEqual(await env.bare.post.findUnique(detail(post.id)))
      expect(reached(spy.calls, calls)).toBe(0)
    })
    expect(prisma.$prefetch.stats().byModel.Post).toMatchObject({ prefetchHits: rows.posts.length, lateHits: 0 })
  })

  it('keeps no more rows than learn.maxFanOutBytes, and later fetches only as many rows of that shape as fit', async () => {
    const details = await Promise.all(rows.posts.map((post) => env.bare.post.findUnique(detail(post.id))))
    const sizes = details.map((row) => estimateSize(row))
    // Room for the first three rows and half of the fourth.
    const maxFanOutBytes = sizes[0] + sizes[1] + sizes[2] + Math.floor(sizes[3] / 2)
    const { prisma, spy } = await env.client({ learn: { maxFanOutBytes } })
    const ids = rows.posts.map((post) => post.id)
    // Pages that open rows from the end of the list, until the first fan-out: its rows' shape
    // was never seen, so it fetches every row not cached yet (the rows the pages opened are);
    // it keeps only the first three rows.
    let first: number[][] = []
    for (let s = 0; s < 20 && first.length === 0; s++) {
      const speculative = spy.speculative.length
      await prisma.$prefetch.session(`tail-${s}`, async () => {
        const posts = await prisma.post.findMany(list)
        await prisma.post.findUnique(detail(posts[posts.length - 1 - s].id))
      })
      await prisma.$prefetch.idle()
      first = batches(spy.speculative, speculative)
    }
    expect(first).toHaveLength(1)
    expect(first[0].length).toBeGreaterThan(ids.length / 2)
    expect(first[0]).toStrictEqual(ids.slice(0, first[0].length))
    const calls = spy.calls.length
    for (const id of ids.slice(0, 3)) expect(await prisma.post.findUnique(detail(id))).toStrictEqual(await env.bare.post.findUnique(detail(id)))
    expect(reached(spy.calls, calls)).toBe(0)
    await prisma.post.findUnique(detail(ids[3]))
    expect(reached(spy.calls, calls)).toBe(1)

    // Now the size of a row of this shape is known: only as many rows as fit are asked for.
    await prisma.$prefetch.invalidate()
    const speculative = spy.speculative.length
    await prisma.$prefetch.session('browse-bounded', () => prisma.post.findMany(list))
    await prisma.$prefetch.idle()
    const fetched = first[0].map((id) => sizes[ids.indexOf(id)])
    const mean = fetched.reduce((sum, size) => sum + size, 0) / fetched.length
    const fit = Math.floor(maxFanOutBytes / mean)
    expect(fit).toBeGreaterThan(0)
    expect(fit).toBeLessThan(ids.length)
    expect(batches(spy.speculative, speculative)).toStrictEqual([ids.slice(0, fit)])
  })
})
