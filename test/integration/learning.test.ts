import { describe, expect, it } from 'vitest'
import { prefetch, rule } from '../../src/index.ts'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const rows = await seed(env.bare)

/** Users who are not in the seed, with a few posts each, for training sessions. */
const trainees: { id: number; email: string }[] = []
for (let i = 0; i < 6; i++) {
  trainees.push(
    await env.bare.user.create({
      data: { email: `trainee${i}@example.com`, posts: { create: [{ title: `t${i} a` }, { title: `t${i} b` }] } },
      select: { id: true, email: true },
    }),
  )
}

type Client = Awaited<ReturnType<typeof env.client>>

/** A user page: the user by email, then their posts. */
async function userPage(prisma: Client['prisma'], email: string) {
  const user = await prisma.user.findUnique({ where: { email } })
  return prisma.post.findMany({ where: { authorId: user!.id }, orderBy: { id: 'asc' } })
}

describe('learned prefetching against a real database', () => {
  it('after training, the next read of a new session is served from a prefetched entry (0 database queries)', async () => {
    const { prisma, spy, sql } = await env.client({})
    for (const [i, trainee] of trainees.entries()) await prisma.$prefetch.session(`train-${i}`, () => userPage(prisma, trainee.email))
    await prisma.$prefetch.idle()
    prisma.$prefetch.resetStats()

    await prisma.$prefetch.session('alice-visit', async () => {
      const user = await prisma.user.findUnique({ where: { email: rows.alice.email } })
      await prisma.$prefetch.idle()
      const calls = spy.calls.length
      const trips = sql.queries
      const posts = await prisma.post.findMany({ where: { authorId: user!.id }, orderBy: { id: 'asc' } })
      expect(reached(spy.calls, calls)).toBe(0)
      expect(sql.queries - trips).toBe(0)
      expect(posts).toStrictEqual(await env.bare.post.findMany({ where: { authorId: rows.alice.id }, orderBy: { id: 'asc' } }))
    })
    const stats = prisma.$prefetch.stats()
    expect(stats.prefetchHits).toBe(1)
    expect(stats.byStrategy.transitions).toMatchObject({ used: 1 })

    const learned = prisma.$prefetch.model()
    expect(learned.transitions[0]).toMatchObject({
      after: ['User.findUnique{where:{email:?}}'],
      next: 'Post.findMany{orderBy:{id:"asc"},where:{authorId:?}}',
      probability: 1,
      arguments: [{ slot: 'where.authorId', from: expect.stringMatching(/^field id of row 0 of the read before/), confidence: 1 }],
    })
    expect(JSON.parse(JSON.stringify(learned))).toEqual(learned)
  })

  it('never serves a prefetched result that a write has outdated', async () => {
    const { prisma } = await env.client({})
    for (const [i, trainee] of trainees.entries()) await prisma.$prefetch.session(`w-${i}`, () => userPage(prisma, trainee.email))
    await prisma.$prefetch.invalidate()
    await prisma.$prefetch.session('bob-visit', async () => {
      const bob = await prisma.user.findUnique({ where: { email: rows.bob.email } })
      await prisma.$prefetch.idle()
      const post = await env.bare.post.findFirst({ where: { authorId: bob!.id } })
      await prisma.post.update({ where: { id: post!.id }, data: { title: 'Changed after the prefetch' } })
      const posts = await prisma.post.findMany({ where: { authorId: bob!.id }, orderBy: { id: 'asc' } })
      expect(posts.find((p) => p.id === post!.id)!.title).toBe('Changed after the prefetch')
    })
    expect(prisma.$prefetch.stats().prefetchHits).toBe(0)
  })

  it('fans a list out into one batched query whose rows answer the detail reads that follow', async () => {
    const { prisma, spy, sql } = await env.client({ learn: { maxFanOut: 6 } })
    const list = { where: { published: true }, select: { id: true, title: true }, orderBy: { id: 'asc' as const }, take: 10 }
    const detail = (id: number) => ({ where: { id }, include: { author: true, tags: true } })
    for (let s = 0; s < 8; s++) {
      await prisma.$prefetch.session(`browse-${s}`, async () => {
        const posts = await prisma.post.findMany(list)
        await prisma.post.findUnique(detail(posts[(s * 3) % posts.length].id))
      })
    }
    await prisma.$prefetch.idle()
    await prisma.$prefetch.invalidate()
    prisma.$prefetch.resetStats()

    await prisma.$prefetch.session('browse-new', async () => {
      const trips = sql.queries
      const posts = await prisma.post.findMany(list)
      const afterList = sql.queries
      await prisma.$prefetch.idle()
      // One batch for the six leading rows (with author and tags), after the list itself.
      expect(prisma.$prefetch.stats()).toMatchObject({ dbQueries: 2, prefetch: { issued: 1, completed: 1 } })
      expect(afterList - trips).toBe(1)
      expect(sql.queries - afterList).toBeGreaterThan(0)
      const calls = spy.calls.length
      for (const post of posts.slice(0, 6)) {
        expect(await prisma.post.findUnique(detail(post.id))).toStrictEqual(await env.bare.post.findUnique(detail(post.id)))
      }
      expect(reached(spy.calls, calls)).toBe(0)
    })
    const stats = prisma.$prefetch.stats()
    expect(stats.byModel.Post).toMatchObject({ reads: 7, hits: 6, prefetchHits: 6, misses: 1 })
    expect(stats.byStrategy.fanOut).toMatchObject({ issued: 1, completed: 1, used: 1 })

    // The list again: every row it would fan out to is cached, so the batch is skipped, unqueued
    // (a single detail read predicted beside it, of a row past the sixth, may still run).
    prisma.$prefetch.resetStats()
    await prisma.$prefetch.session('browse-again', () => prisma.post.findMany(list))
    await prisma.$prefetch.idle()
    const again = prisma.$prefetch.stats()
    expect(again.byModel.Post).toMatchObject({ reads: 1, hits: 1 })
    expect(again.byStrategy.fanOut?.issued ?? 0).toBe(0)
    expect(again.prefetch.skipped.cached).toBeGreaterThanOrEqual(1)
    expect(again.dbQueries).toBe(again.prefetch.issued)
  })

  it('answers single-row reads from the rows of a list that has their shape, without a query', async () => {
    const { prisma, spy, sql } = await env.client({})
    for (let s = 0; s < 8; s++) {
      await prisma.$prefetch.session(`people-${s}`, async () => {
        const users = await prisma.user.findMany({ orderBy: { id: 'asc' } })
        await prisma.user.findUnique({ where: { id: users[s % users.length].id } })
      })
    }
    await prisma.$prefetch.idle()
    await prisma.$prefetch.invalidate()
    prisma.$prefetch.resetStats()
    await prisma.$prefetch.session('people-new', async () => {
      const trips = sql.queries
      const users = await prisma.user.findMany({ orderBy: { id: 'asc' } })
      await prisma.$prefetch.idle()
      expect(sql.queries - trips).toBe(1) // the list only
      const calls = spy.calls.length
      // Every scalar type of the schema (BigInt, Decimal, Bytes, Json, Date) comes back as the database gives it.
      for (const user of users) expect(await prisma.user.findUnique({ where: { id: user.id } })).toStrictEqual(await env.bare.user.findUnique({ where: { id: user.id } }))
      expect(reached(spy.calls, calls)).toBe(0)
    })
    expect(prisma.$prefetch.stats().byStrategy.fanOut).toMatchObject({ issued: 1, completed: 1, used: 1 })
  })

  it('learns nothing outside sessions', async () => {
    const { prisma } = await env.client({})
    for (const trainee of trainees) await userPage(prisma, trainee.email)
    expect(prisma.$prefetch.model()).toMatchObject({ sessions: 0, templates: 0, transitions: [] })
    expect(prisma.$prefetch.stats().prefetch.issued).toBe(0)
  })
})

describe('rules', () => {
  const postsOfUser = rule('User.findUnique').then('Post.findMany', ({ result }) => (result ? { where: { authorId: result.id } } : null))

  it('prefetch the read a rule names, with arguments from the result, without any training', async () => {
    const { prisma, spy } = await env.client({ learn: false, rules: [postsOfUser] })
    const user = await prisma.user.findUnique({ where: { email: rows.bob.email } })
    await prisma.$prefetch.idle()
    const calls = spy.calls.length
    const posts = await prisma.post.findMany({ where: { authorId: user!.id } })
    expect(reached(spy.calls, calls)).toBe(0)
    expect(posts).toStrictEqual(await env.bare.post.findMany({ where: { authorId: user!.id } }))
    expect(prisma.$prefetch.stats().byStrategy.rule).toMatchObject({ issued: 1, completed: 1, failed: 0, used: 1, wasted: 0, prefetchHits: 1, lateHits: 0 })
    expect(prisma.$prefetch.model().rules).toEqual([{ from: 'User.findUnique', to: 'Post.findMany', probability: 1 }])
  })

  it('are checked against the client when the extension is applied', () => {
    const unknownModel = rule('User.findUnique').then('Article.findMany', () => ({}))
    expect(() => env.bare.$extends(prefetch({ rules: [unknownModel] }))).toThrow(/rules\[0\] \(User\.findUnique -> Article\.findMany\) must be the name of a model of this client .*: "Article"/)
    const write = rule('User.findUnique').then('Post.deleteMany' as never, () => ({}))
    expect(() => env.bare.$extends(prefetch({ rules: [write] }))).toThrow(/must be between read operations .*: "deleteMany"/)
    // Checked at run time too, for JavaScript callers.
    expect(() => rule('User' as never)).toThrow(/rule\(\) must be 'Model\.operation'/)
    expect(() => rule('User.findUnique').then('Post.findMany', 'nope' as never)).toThrow(/needs a function/)
  })

  it('that throw never fail the query; the error is counted and reported', async () => {
    const errors: unknown[] = []
    const broken = rule('User.findUnique').then('Post.findMany', () => {
      throw new Error('rule bug')
    })
    const { prisma } = await env.client({ learn: false, rules: [broken], onError: (error, context) => errors.push([context.phase, (error as Error).message]) })
    const user = await prisma.user.findUnique({ where: { email: rows.alice.email } })
    expect(user!.id).toBe(rows.alice.id)
    expect(errors).toEqual([['predict', 'rule bug']])
    expect(prisma.$prefetch.stats().errors.predict).toBe(1)
  })

  it('run nothing for a model whose prefetching is off', async () => {
    const { prisma, spy } = await env.client({ learn: false, rules: [postsOfUser], models: { Post: { prefetch: false } } })
    const calls = spy.calls.length
    await prisma.user.findUnique({ where: { email: rows.alice.email } })
    await prisma.$prefetch.idle()
    expect(reached(spy.calls, calls)).toBe(1)
    expect(prisma.$prefetch.stats().prefetch).toMatchObject({ issued: 0, skipped: { modelOff: 1 } })
  })
})
