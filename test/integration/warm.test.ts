import { describe, expect, it } from 'vitest'
import { withLatency } from '../../bench/latency.ts'
import { createTestClient, spyExtension } from '../helpers/db.ts'
import { prefetch } from '../../src/index.ts'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const rows = await seed(env.bare)

/** A client whose every database round trip takes `rttMs`, so queries can overlap on purpose. */
async function slowClient(rttMs: number, options = {}) {
  const slow = withLatency(env.db.adapterFactory(), rttMs)
  const spy = spyExtension()
  const base = await createTestClient({ ...env.db, adapterFactory: () => slow.factory })
  const prisma = base.$extends(prefetch(options)).$extends(spy.extension)
  return { prisma, base, spy, trips: slow.trips }
}

describe('$prefetch.warm()', () => {
  it('makes the next identical read a hit that reaches the database 0 times', async () => {
    const { prisma, spy, sql } = await env.client({})
    const args = { where: { authorId: rows.alice.id }, include: { tags: true }, orderBy: { id: 'asc' as const } }
    const before = sql.queries
    await prisma.$prefetch.warm({ model: 'Post', operation: 'findMany', args })
    expect(sql.queries - before).toBeGreaterThan(0) // the speculative query reached the database
    const calls = spy.calls.length
    const atDemand = sql.queries
    const posts = await prisma.post.findMany(args)
    expect(reached(spy.calls, calls)).toBe(0)
    expect(sql.queries - atDemand).toBe(0)
    expect(posts).toStrictEqual(await env.bare.post.findMany(args))
    const stats = prisma.$prefetch.stats()
    expect(stats).toMatchObject({ reads: 1, hits: 1, prefetchHits: 1, lateHits: 0, dbQueries: 1, precision: 1, coverage: 1 })
    expect(stats.prefetch).toMatchObject({ issued: 1, completed: 1, used: 1, failed: 0 })
    expect(stats.byStrategy).toEqual({ manual: { issued: 1, completed: 1, failed: 0, used: 1, wasted: 0, prefetchHits: 1, lateHits: 0, savedMs: 0, precision: 1, coverage: 1, lateCoverage: 0 } })
    // a second hit does not count the same speculative result as used twice
    await prisma.post.findMany(args)
    expect(prisma.$prefetch.stats().prefetch.used).toBe(1)
  })

  it('lets a read that arrives while it runs join it (a late hit, one database query)', async () => {
    const { prisma, trips } = await slowClient(40)
    await prisma.tag.count() // connect
    const before = trips.queries
    const warming = prisma.$prefetch.warm({ model: 'User', operation: 'findUnique', args: { where: { id: rows.bob.id } } })
    await new Promise((resolve) => setTimeout(resolve, 5))
    const user = await prisma.user.findUnique({ where: { id: rows.bob.id } })
    await warming
    expect(user!.id).toBe(rows.bob.id)
    expect(trips.queries - before).toBe(1)
    expect(prisma.$prefetch.stats()).toMatchObject({ lateHits: 1, hits: 1, prefetch: { issued: 1, completed: 1, used: 1 } })
  })

  it('never serves a result that a write made during its flight outdated', async () => {
    // The speculative read runs before the write commits, but its result is held back until the
    // write has completed and bumped: it arrives outdated and must never be served.
    let hold: Promise<void> | undefined
    let release!: () => void
    let reached = false
    const gated = withLatency(env.db.adapterFactory(), 0, (sql) => {
      if (hold === undefined || !/select/i.test(sql) || !sql.includes('Tag')) return undefined
      reached = true
      return hold
    })
    const base = await createTestClient({ ...env.db, adapterFactory: () => gated.factory })
    const prisma = base.$extends(prefetch())
    await prisma.tag.count()
    hold = new Promise<void>((resolve) => (release = resolve))
    const args = { where: { id: rows.tags[1].id } }
    const warming = prisma.$prefetch.warm({ model: 'Tag', operation: 'findUnique', args })
    while (!reached) await new Promise((resolve) => setTimeout(resolve, 1))
    hold = undefined
    await prisma.tag.update({ where: { id: rows.tags[1].id }, data: { name: 'renamed-in-flight' } })
    release()
    await warming
    expect(prisma.$prefetch.stats().prefetch.completed).toBe(1)
    expect((await prisma.tag.findUnique(args))!.name).toBe('renamed-in-flight')
    await base.$disconnect()
  })

  it('is skipped when the result is cached or in flight', async () => {
    const { prisma } = await env.client({})
    const query = { model: 'Comment', operation: 'count', args: {} } as const
    await prisma.comment.count()
    await prisma.$prefetch.warm(query)
    await Promise.all([prisma.$prefetch.invalidate('Comment').then(() => Promise.all([prisma.$prefetch.warm(query), prisma.$prefetch.warm(query)]))])
    expect(prisma.$prefetch.stats().prefetch).toMatchObject({ issued: 1, skipped: { cached: 1, inFlight: 1 } })
  })

  it('counts a failing speculative query and never throws it', async () => {
    const errors: string[] = []
    const { prisma } = await env.client({ onError: (_error, context) => errors.push(context.phase) })
    await expect(prisma.$prefetch.warm({ model: 'User', operation: 'findUnique', args: { where: {} } })).resolves.toBeUndefined()
    expect(prisma.$prefetch.stats().prefetch).toMatchObject({ issued: 1, completed: 0, failed: 1 })
    expect(errors).toEqual(['prefetch'])
    // and the user's own identical query still gets Prisma's own error
    await expect(prisma.user.findUnique({ where: {} } as never)).rejects.toThrow()
  })

  it('rejects bad input with a TypeError naming it', async () => {
    const { prisma } = await env.client({})
    await expect(prisma.$prefetch.warm({ model: 'Nope', operation: 'findMany' })).rejects.toThrow(/warm\(\) needs a model of this client .*"Nope"/)
    await expect(prisma.$prefetch.warm({ model: 'User', operation: 'update' as never })).rejects.toThrow(/warm\(\) needs a read operation .*"update"/)
    await expect(prisma.$prefetch.warm({ model: 'User', operation: 'findMany', args: 5 as never })).rejects.toThrow(TypeError)
  })
})

describe('$prefetch.idle()', () => {
  it('waits for speculative reads started without being awaited', async () => {
    const slow = withLatency(env.db.adapterFactory(), 20)
    const base = await createTestClient({ ...env.db, adapterFactory: () => slow.factory })
    const prisma = base.$extends(prefetch())
    void prisma.$prefetch.warm({ model: 'Tag', operation: 'findMany', args: {} })
    void prisma.$prefetch.warm({ model: 'User', operation: 'count', args: {} })
    await prisma.$prefetch.idle()
    expect(prisma.$prefetch.stats().prefetch.completed).toBe(2)
    await prisma.$prefetch.close()
    await base.$disconnect()
  })
})
