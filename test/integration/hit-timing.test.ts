import { describe, expect, it } from 'vitest'
import { reached, setup } from '../support/setup.ts'
import { gatedClient, until } from '../support/gated.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const rows = await seed(env.bare)


describe('on-time and late prefetch hits', () => {
  it('counts a read that joined a speculative query in flight as late: in lateCoverage, not in coverage', async () => {
    const { prisma, base, spy, trips, gate, hold, release } = await gatedClient(env.db, 'User')
    await prisma.user.count() // connect
    prisma.$prefetch.resetStats()
    hold()
    const args = { where: { id: rows.bob.id } }
    const warming = prisma.$prefetch.warm({ model: 'User', operation: 'findUnique', args })
    await until(() => gate.reached)
    const before = trips.queries
    const calls = spy.calls.length
    const reading = prisma.user.findUnique(args).then((user) => user) // Prisma's queries start when awaited
    // Let the read get as far as joining the query in flight; had it missed, it would send its
    // own query, and the count of round trips below would say so.
    await new Promise((resolve) => setTimeout(resolve, 10))
    release()
    const [user] = await Promise.all([reading, warming])
    expect(user).toStrictEqual(await env.bare.user.findUnique(args))
    expect(trips.queries - before).toBe(0) // the speculative query was already sent
    expect(reached(spy.calls, calls)).toBe(0)
    const stats = prisma.$prefetch.stats()
    expect(stats).toMatchObject({ reads: 1, hits: 1, misses: 0, prefetchHits: 0, lateHits: 1, coverage: 0, lateCoverage: 1 })
    expect(stats.byModel.User).toMatchObject({ reads: 1, prefetchHits: 0, lateHits: 1, coverage: 0, lateCoverage: 1 })
    expect(stats.byStrategy.manual).toMatchObject({ issued: 1, used: 1, prefetchHits: 0, lateHits: 1, coverage: 0, lateCoverage: 1, precision: 1 })
    // It joined after the query had run a while and then waited for the rest of it.
    expect(stats.lateSavedMs).toBeGreaterThan(0)
    expect(stats.lateWaitMs).toBeGreaterThan(0)
    expect(stats.savedMs).toBe(stats.lateSavedMs)
    expect(stats.lateSavedShare).toBeCloseTo(stats.lateSavedMs / (stats.lateSavedMs + stats.lateWaitMs), 12)
    expect(stats.byStrategy.manual.savedMs).toBe(stats.savedMs)
    await base.$disconnect()
  })

  it('counts a read served from a result stored before it was asked as on time, once per stored result', async () => {
    const { prisma, spy, sql } = await env.client({})
    const args = { where: { authorId: rows.bob.id }, orderBy: { id: 'asc' as const } }
    await prisma.$prefetch.warm({ model: 'Post', operation: 'findMany', args })
    const before = sql.queries
    const calls = spy.calls.length
    await prisma.post.findMany(args)
    await prisma.post.findMany(args)
    expect(sql.queries - before).toBe(0)
    expect(reached(spy.calls, calls)).toBe(0)
    const stats = prisma.$prefetch.stats()
    // The second read would have been a read-through hit without any prefetching.
    expect(stats).toMatchObject({ reads: 2, hits: 2, prefetchHits: 1, lateHits: 0, coverage: 1 / 2, lateCoverage: 0 })
    expect(stats.byModel.Post).toMatchObject({ prefetchHits: 1, coverage: 1 / 2, hitRate: 1 })
    expect(stats.byStrategy.manual).toMatchObject({ prefetchHits: 1, lateHits: 0, coverage: 1 / 2, used: 1 })
  })

  it('never credits savedMs with more than the script ran, even after a cold first read', async () => {
    const { prisma, base, spy, hold, release, gate } = await gatedClient(env.db, 'Post')
    await prisma.user.count() // connect
    // The first read of Post.findUnique is cold: here it takes 300 ms more.
    hold()
    const first = prisma.post.findUnique({ where: { id: rows.posts[0].id } }).then((post) => post)
    await until(() => gate.reached)
    await new Promise((resolve) => setTimeout(resolve, 300))
    release()
    await first
    prisma.$prefetch.resetStats()

    const started = performance.now()
    for (const post of rows.posts.slice(1, 4)) await prisma.post.findUnique({ where: { id: post.id } }) // warm demand reads
    const calls = spy.calls.length
    for (const post of rows.posts.slice(4, 16)) {
      const args = { where: { id: post.id } }
      await prisma.$prefetch.warm({ model: 'Post', operation: 'findUnique', args })
      await prisma.post.findUnique(args)
    }
    const elapsed = performance.now() - started
    const stats = prisma.$prefetch.stats()
    expect(reached(spy.calls, calls)).toBe(0)
    expect(stats).toMatchObject({ prefetchHits: 12, lateHits: 0, misses: 3 })
    expect(stats.savedMs).toBeGreaterThan(0)
    expect(stats.savedMs).toBeLessThanOrEqual(elapsed)
    expect(stats.byModel.Post.savedMs).toBe(stats.savedMs)
    await base.$disconnect()
  })
})
