// stats().byOperation: reads, hits, misses, on-time hits and writes per operation, checked against
// what really reached the database (the spy beneath the extension, and the driver adapter).
import { describe, expect, it } from 'vitest'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const rows = await seed(env.bare)

describe('stats().byOperation', () => {
  it('counts each operation’s reads as they were answered: from the database, an entry, a speculative result or a cached list', async () => {
    const { prisma, spy, sql } = await env.client({ learn: false })
    await prisma.tag.count() // connect
    prisma.$prefetch.resetStats()
    const calls = spy.calls.length
    const trips = sql.queries
    const { alice, bob } = rows

    await prisma.user.findUnique({ where: { id: alice.id } }) // miss
    await prisma.user.findUnique({ where: { id: alice.id } }) // hit
    await prisma.$prefetch.warm({ model: 'User', operation: 'findUnique', args: { where: { id: bob.id } } })
    await prisma.$prefetch.idle()
    await prisma.user.findUnique({ where: { id: bob.id } }) // on-time prefetch hit
    await prisma.user.findMany({ orderBy: { id: 'asc' } }) // miss
    await prisma.user.findUniqueOrThrow({ where: { email: alice.email } }) // a row of the cached list
    await prisma.post.findFirst({ where: { published: true }, orderBy: { id: 'asc' } }) // miss
    await prisma.post.findFirst({ where: { published: true }, orderBy: { id: 'asc' } }) // hit
    await prisma.post.count() // miss

    // Demand reads that reached the database, per operation, and SQL round trips at the adapter:
    // one per miss, one for the speculative read.
    const demand = (operation: string) => reached(spy.calls, calls, operation)
    expect({ findUnique: demand('findUnique'), findUniqueOrThrow: demand('findUniqueOrThrow'), findMany: demand('findMany'), findFirst: demand('findFirst'), count: demand('count') }).toEqual({
      findUnique: 1,
      findUniqueOrThrow: 0,
      findMany: 1,
      findFirst: 1,
      count: 1,
    })
    expect(spy.speculative.filter((call) => call.operation === 'findUnique')).toHaveLength(1)
    expect(sql.queries - trips).toBe(5)

    const { byOperation, reads, hits, misses, prefetchHits } = prisma.$prefetch.stats()
    expect(byOperation.findUnique).toEqual({ reads: 3, hits: 2, misses: 1, prefetchHits: 1, lateHits: 0, writes: 0, hitRate: 2 / 3, coverage: 1 / 3, lateCoverage: 0 })
    expect(byOperation.findUniqueOrThrow).toMatchObject({ reads: 1, hits: 1, misses: 0, prefetchHits: 0 })
    expect(byOperation.findMany).toMatchObject({ reads: 1, hits: 0, misses: 1 })
    expect(byOperation.findFirst).toMatchObject({ reads: 2, hits: 1, misses: 1, hitRate: 0.5 })
    expect(byOperation.count).toMatchObject({ reads: 1, hits: 0, misses: 1 })
    for (const [operation, counters] of Object.entries(byOperation)) expect(counters.misses, operation).toBe(demand(operation))
    // The breakdown adds up to the totals.
    const sum = (name: 'reads' | 'hits' | 'misses' | 'prefetchHits') => Object.values(byOperation).reduce((n, c) => n + c[name], 0)
    expect({ reads: sum('reads'), hits: sum('hits'), misses: sum('misses'), prefetchHits: sum('prefetchHits') }).toEqual({ reads, hits, misses, prefetchHits })
  })

  it('counts writes under their operation, and a read after one goes to the database again', async () => {
    const { prisma, spy } = await env.client({ learn: false })
    const args = { where: { id: rows.posts[1].id }, select: { id: true, views: true } }
    await prisma.post.findUnique(args)
    await prisma.post.update({ where: { id: rows.posts[1].id }, data: { views: { increment: 1 } } })
    await prisma.post.updateMany({ where: { id: rows.posts[2].id }, data: { views: { increment: 1 } } })
    const calls = spy.calls.length
    const after = await prisma.post.findUnique(args)
    expect(reached(spy.calls, calls, 'findUnique')).toBe(1)
    expect(after).toStrictEqual(await env.bare.post.findUnique(args))
    const { byOperation, writes } = prisma.$prefetch.stats()
    expect(byOperation.update).toMatchObject({ writes: 1, reads: 0 })
    expect(byOperation.updateMany).toMatchObject({ writes: 1, reads: 0 })
    expect(byOperation.findUnique).toMatchObject({ reads: 2, hits: 0, misses: 2, writes: 0 })
    expect(writes).toBe(2)
    prisma.$prefetch.resetStats()
    expect(prisma.$prefetch.stats().byOperation).toEqual({})
  })
})
