import { describe, expect, it } from 'vitest'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const { prisma, bare, spy } = env
const rows = await seed(bare)

/** Every read operation, with arguments that exercise includes and every scalar type. */
const reads: Array<[string, (client: any) => Promise<unknown>]> = [
  ['findUnique', (c) => c.user.findUnique({ where: { id: rows.alice.id }, include: { profile: true } })],
  ['findUniqueOrThrow', (c) => c.post.findUniqueOrThrow({ where: { id: rows.posts[6].id }, include: { tags: true } })],
  ['findFirst', (c) => c.post.findFirst({ where: { published: true }, orderBy: { id: 'desc' } })],
  ['findFirstOrThrow', (c) => c.user.findFirstOrThrow({ where: { email: { contains: 'bob' } } })],
  ['findMany', (c) => c.post.findMany({ take: 20, include: { author: true, comments: true }, orderBy: { id: 'asc' } })],
  ['count', (c) => c.comment.count({ where: { text: { startsWith: 'First' } } })],
  ['aggregate', (c) => c.post.aggregate({ _sum: { views: true, price: true }, _max: { score: true }, _count: { _all: true } })],
  ['groupBy', (c) => c.post.groupBy({ by: ['authorId'], _count: { _all: true }, _sum: { views: true }, orderBy: { authorId: 'asc' } })],
]

describe('the read path', () => {
  it.each(reads)('serves a repeated %s without reaching the database, with the same result and types', async (operation, run) => {
    const expected = await run(bare)
    const first = await run(prisma)
    const before = spy.calls.length
    const second = await run(prisma)
    expect(reached(spy.calls, before)).toBe(0)
    expect(second).toStrictEqual(expected)
    expect(first).toStrictEqual(expected)
    if (typeof second === 'object') expect(second).not.toBe(first) // a copy, never the cached object
  })

  it('finds an entry whatever the order of the argument keys', async () => {
    await prisma.post.findMany({ where: { published: true, authorId: rows.alice.id }, orderBy: { id: 'asc' }, take: 3 })
    const before = spy.calls.length
    await prisma.post.findMany({ take: 3, orderBy: { id: 'asc' }, where: { authorId: rows.alice.id, published: true } })
    expect(reached(spy.calls, before)).toBe(0)
  })

  it('never serves one query the result of another', async () => {
    const a = await prisma.post.findMany({ where: { authorId: rows.alice.id }, select: { id: true } })
    const b = await prisma.post.findMany({ where: { authorId: rows.bob.id }, select: { id: true } })
    expect(a).toStrictEqual(await bare.post.findMany({ where: { authorId: rows.alice.id }, select: { id: true } }))
    expect(b).toStrictEqual(await bare.post.findMany({ where: { authorId: rows.bob.id }, select: { id: true } }))
    expect(a).not.toStrictEqual(b)
  })

  it('keeps the cached copy intact when a caller mutates what it received', async () => {
    const args = { where: { id: rows.alice.id }, include: { profile: true } }
    const served = (await prisma.user.findUnique(args))!
    served.name = 'Mallory'
    served.createdAt.setFullYear(1970)
    served.avatar![0] = 99
    ;(served.settings as any).theme = 'light'
    served.profile!.bio = 'changed'
    expect(await prisma.user.findUnique(args)).toStrictEqual(await bare.user.findUnique(args))
  })

  it('throws Prisma’s own not-found error from the *OrThrow operations', async () => {
    const missing = { where: { id: 987654 } }
    // Prisma's message quotes the caller's source line; the rest must be identical.
    const gist = (error: any) => ({ name: error.name, code: error.code, meta: error.meta, last: error.message.split('\n').at(-1) })
    const expected = await bare.user.findUniqueOrThrow(missing).catch((error: unknown) => error)
    for (let i = 0; i < 2; i++) {
      const error = await prisma.user.findUniqueOrThrow(missing).catch((e: unknown) => e)
      expect(error).toBeInstanceOf((expected as Error).constructor)
      expect(gist(error)).toEqual(gist(expected))
    }
    const first = await prisma.user.findFirstOrThrow({ where: { email: 'nobody' } }).catch((e: unknown) => e)
    expect(first).toMatchObject({ code: 'P2025' })
  })

  it('caches a null result of findUnique as a result', async () => {
    expect(await prisma.user.findUnique({ where: { id: 55555 } })).toBeNull()
    const before = spy.calls.length
    expect(await prisma.user.findUnique({ where: { id: 55555 } })).toBeNull()
    expect(reached(spy.calls, before)).toBe(0)
  })

  it('sends identical concurrent reads to the database once', async () => {
    const args = { where: { title: { contains: '1' } }, orderBy: { id: 'asc' as const } }
    const before = spy.calls.length
    const results = await Promise.all(Array.from({ length: 5 }, () => prisma.post.findMany(args)))
    expect(reached(spy.calls, before)).toBe(1)
    for (const result of results) expect(result).toStrictEqual(results[0])
    expect(new Set(results).size).toBe(5)
  })

  it('keeps Prisma batching findUnique calls made in the same tick', async () => {
    const ids = rows.posts.slice(10, 14).map((post) => post.id)
    const fresh = await env.client({})
    const bareBefore = fresh.sql.queries
    await Promise.all(ids.map((id) => fresh.bare.post.findUnique({ where: { id } })))
    const bareQueries = fresh.sql.queries - bareBefore
    const extBefore = fresh.sql.queries
    const results = await Promise.all(ids.map((id: number) => fresh.prisma.post.findUnique({ where: { id } })))
    expect(fresh.sql.queries - extBefore).toBe(bareQueries)
    expect(bareQueries).toBe(1)
    expect(results.map((post: any) => post!.id)).toEqual(ids)
  })

  it('counts reads, hits, misses and database queries per model', async () => {
    const fresh = await env.client({})
    const args = { where: { id: rows.bob.id } }
    await fresh.prisma.user.findUnique(args)
    await fresh.prisma.user.findUnique(args)
    await fresh.prisma.tag.findMany()
    const stats = fresh.prisma.$prefetch.stats()
    expect(stats).toMatchObject({ reads: 3, hits: 1, misses: 2, dbQueries: 2, writes: 0, prefetchHits: 0, lateHits: 0 })
    expect(stats.hitRate).toBeCloseTo(1 / 3)
    expect(stats.byModel.User).toMatchObject({ reads: 2, hits: 1, misses: 1 })
    expect(stats.byModel.Tag).toMatchObject({ reads: 1, hits: 0, misses: 1 })
    expect(stats.prefetch).toEqual({ issued: 0, completed: 0, failed: 0, used: 0, wasted: 0, expired: 0, cpuBackoffMs: 0, cpuBackoffReads: 0, cpuBackoffSampledOut: 0, skipped: {} })
    expect(JSON.parse(JSON.stringify(stats))).toEqual(stats)
    fresh.prisma.$prefetch.resetStats()
    expect(fresh.prisma.$prefetch.stats()).toMatchObject({ reads: 0, hits: 0, byModel: {} })
  })
})

describe('options of the read path', () => {
  it('are checked against the client’s models when $extends runs', async () => {
    const { prefetch } = await import('../../src/index.ts')
    expect(() => env.bare.$extends(prefetch({ models: { Usr: false } }))).toThrow(TypeError)
    expect(() => env.bare.$extends(prefetch({ models: { Usr: false } }))).toThrow(/models\.Usr must be the name of a model of this client/)
    expect(() => prefetch({ ttl: 0 })).toThrow(/prisma-prefetch: ttl must be a positive integer: 0/)
  })

  it('stops serving an entry once its ttl has passed', async () => {
    let now = 1_000_000
    const { prisma: timed, spy: timedSpy } = await env.client({ ttl: 1000, now: () => now })
    const args = { where: { id: rows.alice.id } }
    await timed.user.findUnique(args)
    now += 999
    let before = timedSpy.calls.length
    await timed.user.findUnique(args)
    expect(reached(timedSpy.calls, before)).toBe(0)
    now += 2
    before = timedSpy.calls.length
    await timed.user.findUnique(args)
    expect(reached(timedSpy.calls, before)).toBe(1)
  })

  it('caches nothing from demand queries with readThrough: false', async () => {
    const { prisma: client, spy: s } = await env.client({ readThrough: false })
    const before = s.calls.length
    await client.tag.findMany()
    await client.tag.findMany()
    expect(reached(s.calls, before)).toBe(2)
  })

  it('leaves models and operations out as configured', async () => {
    const { prisma: client, spy: s } = await env.client({ models: { Tag: false, Post: { operations: ['count'] } } })
    const before = s.calls.length
    for (let i = 0; i < 2; i++) {
      await client.tag.findMany()
      await client.post.findMany({ take: 2 })
      await client.post.count()
    }
    expect(reached(s.calls, before, 'findMany')).toBe(4)
    expect(reached(s.calls, before, 'count')).toBe(1)
  })

  it('uses a model ttl over the global one', async () => {
    let now = 0
    const { prisma: client, spy: s } = await env.client({ ttl: 100_000, models: { Tag: { ttl: 10 } }, now: () => now })
    await client.tag.findMany()
    await client.user.count()
    now = 50
    const before = s.calls.length
    await client.tag.findMany()
    await client.user.count()
    expect(reached(s.calls, before, 'findMany')).toBe(1)
    expect(reached(s.calls, before, 'count')).toBe(0)
  })

  it('never serves a result cached under one scope to another', async () => {
    let tenant = 'a'
    const { prisma: client, spy: s } = await env.client({ scope: () => tenant })
    await client.tag.findMany()
    tenant = 'b'
    let before = s.calls.length
    await client.tag.findMany()
    expect(reached(s.calls, before)).toBe(1)
    tenant = 'a'
    before = s.calls.length
    await client.tag.findMany()
    expect(reached(s.calls, before)).toBe(0)
  })

  it('holds the process cache within l1.maxEntries and l1.maxBytes', async () => {
    const { prisma: byCount } = await env.client({ l1: { maxEntries: 5 } })
    for (let i = 0; i < 30; i++) await byCount.post.findMany({ where: { id: { gt: i } }, take: 1 })
    expect(byCount.$prefetch.stats().l1.entries).toBe(5)
    // The bound shows in behaviour too: the oldest queries went to the database again.
    const { prisma: bySize, spy: s } = await env.client({ l1: { maxBytes: 20_000 } })
    for (let i = 0; i < 30; i++) await bySize.post.findMany({ where: { id: { gt: i } }, include: { comments: true } })
    const before = s.calls.length
    await bySize.post.findMany({ where: { id: { gt: 0 } }, include: { comments: true } })
    expect(reached(s.calls, before)).toBe(1)
    const { bytes, entries } = bySize.$prefetch.stats().l1
    expect(bytes).toBeLessThanOrEqual(20_000)
    expect(entries).toBeGreaterThan(0)
  })
})
