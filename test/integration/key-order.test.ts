// A served result has the key order the bare client gives the caller's own arguments, whichever
// query filled the entry: demand reads, warm(), rules, learned reads, fan-out and rows taken from
// cached lists. The order of a result's fields follows the order of select and include (and of an
// aggregate's selectors); `toStrictEqual` does not see it, so every result is also compared by
// keyOrder(), which lists keys in order at every depth.
import { describe, expect, it } from 'vitest'
import { rule } from '../../src/index.ts'
import { keyOrder } from '../support/key-order.ts'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const rows = await seed(env.bare)

/** Users who are not in the seed, with a few posts each, for training sessions. */
const trainees: { id: number; email: string }[] = []
for (let i = 0; i < 6; i++) {
  trainees.push(
    await env.bare.user.create({
      data: { email: `order${i}@example.com`, posts: { create: [{ title: `o${i} a` }, { title: `o${i} b` }] } },
      select: { id: true, email: true },
    }),
  )
}

/** `served` is the bare client's result: same values and types, and the same key order at every depth. */
function expectBare(served: unknown, bare: unknown): void {
  expect(served).toStrictEqual(bare)
  expect(keyOrder(served)).toEqual(keyOrder(bare))
}

/** Each pair: two reads of one model that differ only in the order of select, include or selector members. */
const pairs: { name: string; model: 'user' | 'post'; operation: string; first: object; second: object }[] = [
  {
    name: 'include',
    model: 'user',
    operation: 'findUnique',
    first: { where: { id: rows.alice.id }, include: { posts: { take: 2, orderBy: { id: 'asc' } }, comments: { take: 2, orderBy: { id: 'asc' } } } },
    second: { where: { id: rows.alice.id }, include: { comments: { take: 2, orderBy: { id: 'asc' } }, posts: { take: 2, orderBy: { id: 'asc' } } } },
  },
  {
    name: 'select with scalars, relations and _count mixed',
    model: 'user',
    operation: 'findFirst',
    first: { where: { id: rows.alice.id }, select: { profile: true, name: true, _count: true, id: true } },
    second: { where: { id: rows.alice.id }, select: { id: true, _count: true, name: true, profile: true } },
  },
  {
    name: 'select two levels deep',
    model: 'post',
    operation: 'findMany',
    first: { orderBy: { id: 'asc' }, take: 3, select: { id: true, author: { select: { name: true, id: true } }, comments: { select: { text: true, id: true } } } },
    second: { orderBy: { id: 'asc' }, take: 3, select: { id: true, author: { select: { id: true, name: true } }, comments: { select: { id: true, text: true } } } },
  },
  {
    name: 'include two levels deep',
    model: 'user',
    operation: 'findMany',
    first: { orderBy: { id: 'asc' }, include: { posts: { take: 2, orderBy: { id: 'asc' }, include: { tags: true, comments: true } } } },
    second: { orderBy: { id: 'asc' }, include: { posts: { take: 2, orderBy: { id: 'asc' }, include: { comments: true, tags: true } } } },
  },
  {
    name: '_count select',
    model: 'user',
    operation: 'findUnique',
    first: { where: { id: rows.bob.id }, select: { _count: { select: { posts: true, comments: true } } } },
    second: { where: { id: rows.bob.id }, select: { _count: { select: { comments: true, posts: true } } } },
  },
  {
    name: 'aggregate selectors',
    model: 'post',
    operation: 'aggregate',
    first: { _sum: { views: true, score: true }, _count: { id: true, _all: true } },
    second: { _count: { _all: true, id: true }, _sum: { score: true, views: true } },
  },
  {
    name: 'groupBy selectors and by',
    model: 'post',
    operation: 'groupBy',
    first: { by: ['authorId', 'published'], _max: { id: true, score: true }, _count: true, orderBy: [{ authorId: 'asc' }, { published: 'asc' }] },
    second: { by: ['published', 'authorId'], _count: true, _max: { score: true, id: true }, orderBy: [{ authorId: 'asc' }, { published: 'asc' }] },
  },
  {
    name: 'count select',
    model: 'post',
    operation: 'count',
    first: { select: { title: true, _all: true } },
    second: { select: { _all: true, title: true } },
  },
]

type Delegate = Record<string, (args: object) => Promise<unknown>>
const call = (client: object, model: string, operation: string, args: object) => (client as Record<string, Delegate>)[model][operation](args)

describe('key order of served results', () => {
  it('a demand read is never served the entry of a read whose select or include has another order', async () => {
    const { prisma, spy } = await env.client({ learn: false })
    for (const { name, model, operation, first, second } of pairs) {
      await call(prisma, model, operation, first)
      const calls = spy.calls.length
      const served = await call(prisma, model, operation, second)
      expect(reached(spy.calls, calls), name).toBe(1)
      expectBare(served, await call(env.bare, model, operation, second))
      // Each order still has its own entry.
      const again = spy.calls.length
      expectBare(await call(prisma, model, operation, first), await call(env.bare, model, operation, first))
      expectBare(await call(prisma, model, operation, second), await call(env.bare, model, operation, second))
      expect(reached(spy.calls, again), name).toBe(0)
    }
  })

  it('the order of where members, of the arguments themselves and of omit still shares one entry', async () => {
    const { prisma, spy } = await env.client({ learn: false })
    await prisma.post.findMany({ where: { authorId: rows.alice.id, published: true }, omit: { body: true, meta: true }, orderBy: { id: 'asc' } })
    const calls = spy.calls.length
    const args = { orderBy: { id: 'asc' as const }, omit: { meta: true, body: true }, where: { published: true, authorId: rows.alice.id } }
    expectBare(await prisma.post.findMany(args), await env.bare.post.findMany(args))
    expect(reached(spy.calls, calls)).toBe(0)
  })

  it('a result warm() fetched serves only reads of its own order', async () => {
    const { prisma, spy } = await env.client({ learn: false })
    for (const { name, model, operation, first, second } of pairs) {
      const Model = model === 'user' ? 'User' : 'Post'
      await prisma.$prefetch.warm({ model: Model, operation: operation as 'findMany', args: first })
      const calls = spy.calls.length
      expectBare(await call(prisma, model, operation, second), await call(env.bare, model, operation, second))
      expect(reached(spy.calls, calls), name).toBe(1)
      await prisma.$prefetch.warm({ model: Model, operation: operation as 'findMany', args: second })
      const warmed = spy.calls.length
      expectBare(await call(prisma, model, operation, first), await call(env.bare, model, operation, first))
      expect(reached(spy.calls, warmed), name).toBe(0)
    }
  })

  it('a rule prefetches its own order: a read in another order goes to the database', async () => {
    const include = { tags: true, comments: { orderBy: { id: 'asc' as const } } }
    const postsOfUser = rule('User.findUnique').then('Post.findMany', ({ result }) =>
      result ? { where: { authorId: result.id }, orderBy: { id: 'asc' }, include } : null,
    )
    const { prisma, spy } = await env.client({ learn: false, rules: [postsOfUser] })
    await prisma.user.findUnique({ where: { email: rows.bob.email } })
    await prisma.$prefetch.idle()
    const calls = spy.calls.length
    const reordered = { where: { authorId: rows.bob.id }, orderBy: { id: 'asc' as const }, include: { comments: include.comments, tags: true } }
    expectBare(await prisma.post.findMany(reordered), await env.bare.post.findMany(reordered))
    expect(reached(spy.calls, calls)).toBe(1)
    const same = { where: { authorId: rows.bob.id }, orderBy: { id: 'asc' as const }, include }
    expectBare(await prisma.post.findMany(same), await env.bare.post.findMany(same))
    expect(reached(spy.calls, calls)).toBe(1)
  })

  it('a learned read is prefetched with the select and include order the application uses, and hits', async () => {
    const { prisma, spy } = await env.client({})
    // Not alphabetical, at both levels: a read rebuilt from sorted arguments would come back otherwise.
    const postsOf = (authorId: number) => ({
      where: { authorId },
      orderBy: { id: 'asc' as const },
      select: { title: true, id: true, tags: { select: { name: true, id: true } }, author: { include: { profile: true, _count: true } } },
    })
    const page = async (email: string) => {
      const user = await prisma.user.findUnique({ where: { email } })
      return prisma.post.findMany(postsOf(user!.id))
    }
    for (const [i, trainee] of trainees.entries()) await prisma.$prefetch.session(`learn-${i}`, () => page(trainee.email))
    await prisma.$prefetch.idle()
    await prisma.$prefetch.invalidate()
    prisma.$prefetch.resetStats()
    await prisma.$prefetch.session('learn-alice', async () => {
      const user = await prisma.user.findUnique({ where: { email: rows.alice.email } })
      await prisma.$prefetch.idle()
      const calls = spy.calls.length
      expectBare(await prisma.post.findMany(postsOf(user!.id)), await env.bare.post.findMany(postsOf(rows.alice.id)))
      expect(reached(spy.calls, calls)).toBe(0)
    })
    expect(prisma.$prefetch.stats()).toMatchObject({ prefetchHits: 1, byStrategy: { transitions: { used: 1 } } })
  })

  it('a fan-out batch keeps the detail read’s include and select order in every row it keeps, and hits', async () => {
    const list = { where: { published: true }, select: { title: true, id: true }, orderBy: { id: 'asc' as const }, take: 6 }
    // An include; a select with the key last; a select without the key (the batch adds it to
    // match rows, and takes it out of each row it keeps).
    const details: ((id: number) => { where: { id: number } })[] = [
      (id: number) => ({ where: { id }, include: { tags: true, author: { select: { name: true, id: true } } } }),
      (id: number) => ({ where: { id }, select: { title: true, tags: true, id: true } }),
      (id: number) => ({ where: { id }, select: { title: true, comments: { select: { text: true, id: true } } } }),
    ]
    for (const [d, detail] of details.entries()) {
      const { prisma, spy } = await env.client({ learn: { maxFanOut: 4 } })
      for (let s = 0; s < 8; s++) {
        await prisma.$prefetch.session(`fan-${d}-${s}`, async () => {
          const posts = await prisma.post.findMany(list)
          await prisma.post.findUnique(detail(posts[(s * 5) % posts.length].id))
        })
      }
      await prisma.$prefetch.idle()
      await prisma.$prefetch.invalidate()
      prisma.$prefetch.resetStats()
      await prisma.$prefetch.session(`fan-${d}-new`, async () => {
        const posts = await prisma.post.findMany(list)
        await prisma.$prefetch.idle()
        const calls = spy.calls.length
        for (const post of posts.slice(0, 4)) expectBare(await prisma.post.findUnique(detail(post.id)), await env.bare.post.findUnique(detail(post.id)))
        expect(reached(spy.calls, calls), `detail ${d}`).toBe(0)
      })
      expect(prisma.$prefetch.stats().byStrategy.fanOut, `detail ${d}`).toMatchObject({ issued: 1, completed: 1, used: 1 })
    }
  })

  it('a row of a cached list answers a single-row read only in the list’s field order', async () => {
    const { prisma, spy } = await env.client({ learn: false })
    await prisma.post.findMany({ orderBy: { id: 'asc' }, select: { title: true, id: true, author: { select: { name: true, id: true } } } })
    const calls = spy.calls.length
    for (const post of rows.posts.slice(0, 3)) {
      const reordered = { where: { id: post.id }, select: { id: true, title: true, author: { select: { id: true, name: true } } } }
      expectBare(await prisma.post.findUnique(reordered), await env.bare.post.findUnique(reordered))
    }
    expect(reached(spy.calls, calls)).toBe(3)
    const atSame = spy.calls.length
    for (const post of rows.posts.slice(3, 6)) {
      const same = { where: { id: post.id }, select: { title: true, id: true, author: { select: { name: true, id: true } } } }
      expectBare(await prisma.post.findUnique(same), await env.bare.post.findUnique(same))
    }
    expect(reached(spy.calls, atSame)).toBe(0)
  })

  it('rows a learned fan-out takes from the list just read are kept only when the detail read has the list’s field order', async () => {
    const { prisma, spy, sql } = await env.client({ learn: { maxFanOut: 4 } })
    const list = { orderBy: { id: 'asc' as const }, take: 6, select: { title: true, id: true } }
    const detail = (id: number) => ({ where: { id }, select: { id: true, title: true } })
    for (let s = 0; s < 8; s++) {
      await prisma.$prefetch.session(`rows-${s}`, async () => {
        const posts = await prisma.post.findMany(list)
        await prisma.post.findUnique(detail(posts[(s * 5) % posts.length].id))
      })
    }
    await prisma.$prefetch.idle()
    await prisma.$prefetch.invalidate()
    prisma.$prefetch.resetStats()
    await prisma.$prefetch.session('rows-new', async () => {
      const trips = sql.queries
      const posts = await prisma.post.findMany(list)
      await prisma.$prefetch.idle()
      // The list's rows have another field order: the detail rows come from a batch of their own.
      expect(sql.queries - trips).toBe(2)
      const calls = spy.calls.length
      for (const post of posts.slice(0, 4)) expectBare(await prisma.post.findUnique(detail(post.id)), await env.bare.post.findUnique(detail(post.id)))
      expect(reached(spy.calls, calls)).toBe(0)
    })
  })

  it('fluent reads come back in the order of their own select', async () => {
    const { prisma } = await env.client({ learn: false })
    const where = { id: rows.alice.id }
    await prisma.user.findUnique({ where }).posts({ orderBy: { id: 'asc' }, take: 2, select: { title: true, id: true } })
    const served = await prisma.user.findUnique({ where }).posts({ orderBy: { id: 'asc' }, take: 2, select: { id: true, title: true } })
    expectBare(served, await env.bare.user.findUnique({ where }).posts({ orderBy: { id: 'asc' }, take: 2, select: { id: true, title: true } }))
    const profile = await prisma.user.findUnique({ where }).profile({ select: { userId: true, bio: true } })
    expectBare(profile, await env.bare.user.findUnique({ where }).profile({ select: { userId: true, bio: true } }))
  })
})
