// Other extensions before and after prefetch(): every result served, speculative ones included
// (warm(), rules, learned reads, fan-out), equals what the same composition without prefetch()
// returns, and the speculative path was really taken (a prefetch hit, no demand query at the spy).
import { describe, expect, it } from 'vitest'
import { Prisma } from '@prisma/client/extension'
import { prefetch, rule } from '../../src/index.ts'
import type { PrefetchOptions } from '../../src/types.ts'
import { createTestClient, spyExtension, type TestClient } from '../helpers/db.ts'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const rows = await seed(env.bare)
const trainees: { id: number; email: string }[] = []
for (let i = 0; i < 6; i++) {
  trainees.push(
    await env.bare.user.create({ data: { email: `trainee${i}@example.com`, name: `T${i}`, posts: { create: [{ title: `t${i} a` }, { title: `t${i} b`, published: true }] } } }),
  )
}

/** Appends `mark` to every user name and post title in a result (in place, as extensions do). */
function marked(value: unknown, mark: string): unknown {
  if (Array.isArray(value)) value.forEach((v) => marked(v, mark))
  else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const row = value as Record<string, unknown>
    for (const [key, field] of Object.entries(row)) {
      if ((key === 'name' || key === 'title') && typeof field === 'string') row[key] = field + mark
      else marked(field, mark)
    }
  }
  return value
}

const others = {
  /** Changes results of every read. */
  bang: Prisma.defineExtension({
    name: 'bang',
    query: { $allModels: { async $allOperations({ args, query }) { return marked(await query(args), '!') } } },
  }),
  /** Rewrites the arguments of one model's findMany (and is bound to that model and operation). */
  published: Prisma.defineExtension({
    name: 'published',
    query: { post: { findMany: ({ args, query }) => query({ ...args, where: { ...(args.where as object), published: true } }) } },
  }),
  /** Changes the results of findUnique of one model only. */
  unique: Prisma.defineExtension({
    name: 'unique',
    query: { user: { async findUnique({ args, query }) { return marked(await query(args), '?') } }, post: { async findUnique({ args, query }) { return marked(await query(args), '?') } } },
  }),
  /** A computed field, and a model method. */
  computed: Prisma.defineExtension({
    name: 'computed',
    result: { user: { shout: { needs: { email: true }, compute: (user: { email: string }) => user.email.toUpperCase() } } },
    model: { user: { byEmail(email: string) { return (Prisma.getExtensionContext(this) as unknown as TestClient['user']).findUnique({ where: { email } }) } } },
  }),
}
type Other = keyof typeof others

/** The client under test (spy beneath it all) and the reference: the same composition without prefetch(). */
async function compose(other: Other, order: 'before' | 'after', options: PrefetchOptions = {}) {
  const spy = spyExtension()
  const base = await createTestClient(env.db)
  const ext = others[other] as never
  const prisma = (order === 'before' ? base.$extends(ext).$extends(prefetch({ cpu: false, ...options })) : base.$extends(prefetch({ cpu: false, ...options })).$extends(ext)).$extends(spy.extension) as any
  const reference = (await createTestClient(env.db)).$extends(ext) as any
  return { prisma, reference, spy }
}

/** Asserts `read` is served from a speculative result, equal to the reference's. */
async function servedFromPrefetch(c: Awaited<ReturnType<typeof compose>>, read: (client: any) => Promise<unknown>) {
  const calls = c.spy.calls.length
  const hits = c.prisma.$prefetch.stats().prefetchHits
  const got = await read(c.prisma)
  expect(plain(got)).toStrictEqual(plain(await read(c.reference)))
  expect(reached(c.spy.calls, calls)).toBe(0)
  expect(c.prisma.$prefetch.stats().prefetchHits).toBe(hits + 1)
}

/**
 * A result as its reader sees it, property by property: results with computed fields are Prisma
 * proxies, each with its own inspection function, which no two results share.
 */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain)
  if (value === null || typeof value !== 'object' || value instanceof Date || value instanceof Uint8Array || Object.prototype.toString.call(value) === '[object Decimal]') return value
  return Object.fromEntries(Object.keys(value).map((key) => [key, plain((value as Record<string, unknown>)[key])]))
}

const userById = (id: number) => ({ where: { id } })
const postsOf = (authorId: number) => ({ where: { authorId }, orderBy: { id: 'asc' as const } })

describe.each(['before', 'after'] as const)('with another extension applied %s prefetch()', (order) => {
  describe.each(Object.keys(others) as Other[])('%s', (other) => {
    it('warm() results are served as the composition returns them', async () => {
      const c = await compose(other, order)
      await c.prisma.$prefetch.warm({ model: 'User', operation: 'findUnique', args: userById(rows.alice.id) })
      await servedFromPrefetch(c, (db) => db.user.findUnique(userById(rows.alice.id)))
      await c.prisma.$prefetch.warm({ model: 'Post', operation: 'findMany', args: postsOf(rows.alice.id) })
      await servedFromPrefetch(c, (db) => db.post.findMany(postsOf(rows.alice.id)))
      await c.prisma.$prefetch.warm({ model: 'Post', operation: 'findUnique', args: { where: { id: rows.posts[1].id }, include: { author: true } } })
      await servedFromPrefetch(c, (db) => db.post.findUnique({ where: { id: rows.posts[1].id }, include: { author: true } }))
      // Speculative reads went through what lies beneath prefetch(): the spy saw them, apart.
      expect(c.spy.speculative.length).toBeGreaterThan(0)
    })

    it('rule results are served as the composition returns them', async () => {
      const c = await compose(other, order, {
        learn: false,
        rules: [rule('Post.findUnique').then('User.findUnique', ({ result }) => result && { where: { id: (result as { authorId: number }).authorId } })],
      })
      await c.prisma.$prefetch.session('rule', async () => {
        await c.prisma.post.findUnique({ where: { id: rows.posts[4].id } })
        await c.prisma.$prefetch.idle()
        await servedFromPrefetch(c, (db) => db.user.findUnique(userById(rows.posts[4].authorId)))
      })
    })

    it('learned reads are served as the composition returns them', async () => {
      const c = await compose(other, order)
      const page = async (db: any, email: string) => {
        const user = await db.user.findUnique({ where: { email } })
        return db.post.findMany(postsOf(user.id))
      }
      for (const [i, t] of trainees.entries()) await c.prisma.$prefetch.session(`train-${i}`, () => page(c.prisma, t.email))
      await c.prisma.$prefetch.idle()
      await c.prisma.$prefetch.invalidate()
      await c.prisma.$prefetch.session('visit', async () => {
        await c.prisma.user.findUnique({ where: { email: rows.alice.email } })
        await c.prisma.$prefetch.idle()
        await servedFromPrefetch(c, (db) => db.post.findMany(postsOf(rows.alice.id)))
      })
    })

    it('fan-out rows are served as the composition returns them', async () => {
      const c = await compose(other, order, { learn: { maxFanOut: 3 } })
      const list = { where: { published: true }, select: { id: true, title: true }, orderBy: { id: 'asc' as const }, take: 8 }
      const detail = (id: number) => ({ where: { id }, include: { author: true } })
      for (let s = 0; s < 8; s++) {
        await c.prisma.$prefetch.session(`browse-${s}`, async () => {
          const posts = await c.prisma.post.findMany(list)
          await c.prisma.post.findUnique(detail(posts[(s * 3) % posts.length].id))
        })
      }
      await c.prisma.$prefetch.idle()
      await c.prisma.$prefetch.invalidate()
      await c.prisma.$prefetch.session('browse-new', async () => {
        const posts = await c.prisma.post.findMany(list)
        await c.prisma.$prefetch.idle()
        for (const post of posts.slice(0, 3)) await servedFromPrefetch(c, (db) => db.post.findUnique(detail(post.id)))
      })
      expect(c.prisma.$prefetch.stats().byStrategy.fanOut).toMatchObject({ used: expect.any(Number) })
    })
  })
})

describe('forSession()', () => {
  it('keeps what extensions applied after prefetch() add, and puts every query of the client in the session', async () => {
    const seen: (string | undefined)[] = []
    const spy = spyExtension()
    const base = await createTestClient(env.db)
    const prisma = base
      .$extends(prefetch({ scope: (context) => (seen.push(context.sessionId), undefined) }))
      .$extends(others.computed)
      .$extends(spy.extension)
    const db = prisma.$prefetch.forSession<typeof prisma>('s-1', { userId: 3 })
    const user = await db.user.byEmail(rows.alice.email)
    expect((user as { shout?: string } | null)?.shout).toBe(rows.alice.email.toUpperCase())
    expect(plain(await db.user.findUnique({ where: { id: rows.bob.id }, select: { shout: true } }))).toStrictEqual({ shout: rows.bob.email.toUpperCase() })
    const [count, tags] = await db.$transaction([db.user.count(), db.tag.findMany()])
    expect([count, tags.length]).toStrictEqual([await env.bare.user.count(), 3])
    await db.$transaction(async (tx) => tx.user.count())
    // A Prisma promise is lazy: made now, run when awaited, outside any session, it still is the session's.
    const lazy = db.post.count()
    await env.bare.user.count()
    await lazy
    // The byEmail read, the select and the lazy count (reads in transactions skip the cache and its scope).
    expect(seen).toEqual(['s-1', 's-1', 's-1'])
    expect(prisma.$prefetch.stats()).toMatchObject({ reads: 3, dbQueries: 6 })
  })

  it('learns from the queries of its client', async () => {
    const base = await createTestClient(env.db)
    const prisma = base.$extends(prefetch({ cpu: false })).$extends(others.computed)
    for (const [i, t] of trainees.entries()) {
      const db = prisma.$prefetch.forSession<typeof prisma>(`learn-${i}`)
      const user = await db.user.byEmail(t.email)
      await db.post.findMany(postsOf(user!.id))
    }
    expect(prisma.$prefetch.model().transitions[0]).toMatchObject({ after: ['User.findUnique{where:{email:?}}'], probability: 1 })
  })
})
