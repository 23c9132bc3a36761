/**
 * CPU-aware speculation against a real client: while the event loop's utilisation is above
 * `cpu.maxUtilization`, no speculative read reaches the database (the spy beneath the extension
 * sees none) and candidates are skipped as `cpuBusy`; once it falls, speculation resumes. With
 * Node's own signal, a loop blocked by synchronous work is counted in `prefetch.cpuBackoffMs`.
 */
import { describe, expect, it, vi } from 'vitest'
import { prefetchWith, type Internals } from '../../src/middleware/extension.ts'
import { rule, type PrefetchOptions } from '../../src/index.ts'
import { createTestClient, spyExtension } from '../helpers/db.ts'
import { setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const rows = await seed(env.bare)

/** After a user is read, their posts are worth fetching. */
const postsOfUser = rule('User.findUnique').then('Post.findMany', ({ result }) => (result ? { where: { authorId: result.id } } : null))

async function client(options: PrefetchOptions, internals: Internals = {}) {
  const spy = spyExtension()
  const base = await createTestClient(env.db)
  const prisma = base.$extends(prefetchWith({ learn: false, rules: [postsOfUser], ...options }, internals)).$extends(spy.extension)
  return { prisma, spy, base }
}

describe('CPU-aware speculation', () => {
  it('runs no speculative read while the loop is busier than cpu.maxUtilization, and resumes when it is not', async () => {
    const source = { utilization: 0, reads: 0 }
    const { prisma, spy, base } = await client(
      { cpu: { maxUtilization: 0.8, sampleMs: 10 } },
      { utilization: () => (source.reads++, source.utilization) },
    )
    /** Waits until the extension has sampled the source 4 times more: past `cpu.busyWindows` (3) windows in a row. */
    const sampled = async () => {
      const before = source.reads
      await vi.waitFor(() => expect(source.reads).toBeGreaterThan(before + 3), { timeout: 10_000, interval: 5 })
    }

    source.utilization = 0.95
    await sampled()
    await prisma.user.findUnique({ where: { id: rows.alice.id } })
    await prisma.$prefetch.idle()
    expect(spy.speculative).toEqual([])
    expect(spy.calls.map((call) => `${call.model}.${call.operation}`)).toEqual(['User.findUnique'])
    const busy = prisma.$prefetch.stats()
    expect(busy.prefetch).toMatchObject({ issued: 0, skipped: { cpuBusy: 1 } })

    source.utilization = 0.2
    await sampled()
    await prisma.user.findUnique({ where: { id: rows.bob.id } })
    await prisma.$prefetch.idle()
    expect(spy.speculative.map((call) => `${call.model}.${call.operation}`)).toEqual(['Post.findMany'])
    const calm = prisma.$prefetch.stats()
    expect(calm.prefetch).toMatchObject({ issued: 1, completed: 1, skipped: { cpuBusy: 1 } })
    // The pause was counted, from the busy sample to the calm one.
    expect(calm.prefetch.cpuBackoffMs).toBeGreaterThan(0)
    // It resumed at the limit it had.
    expect(calm.scheduler.limit).toBe(8)
    // The speculative result serves Bob's posts.
    const posts = await prisma.post.findMany({ where: { authorId: rows.bob.id } })
    expect(posts.length).toBeGreaterThan(0)
    expect(prisma.$prefetch.stats().prefetchHits).toBe(1)
    await prisma.$prefetch.close()
    // close() stopped the sampler: the source is read no more.
    const atClose = source.reads
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(source.reads).toBe(atClose)
    await base.$disconnect()
  })

  it('with cpu: false never samples, and speculates whatever the loop does', async () => {
    let reads = 0
    const { prisma, spy, base } = await client({ cpu: false }, { utilization: () => (reads++, 1) })
    await new Promise((resolve) => setTimeout(resolve, 50))
    await prisma.user.findUnique({ where: { id: rows.alice.id } })
    await prisma.$prefetch.idle()
    expect(reads).toBe(0)
    expect(spy.speculative).toHaveLength(1)
    await prisma.$prefetch.close()
    await base.$disconnect()
  })

  it("with Node's own signal, counts the time a blocked event loop kept speculation paused", async () => {
    const { prisma, base } = await client({ cpu: { maxUtilization: 0.8, sampleMs: 20 } })
    await prisma.user.findUnique({ where: { id: rows.alice.id } })
    await prisma.$prefetch.idle()
    // Loading the client may have kept the loop busy already: what counts is that the block adds.
    const before = prisma.$prefetch.stats().prefetch.cpuBackoffMs
    // Synchronous work on the loop, as a CPU-bound request handler would do.
    const until = performance.now() + 300
    while (performance.now() < until) {
      // busy
    }
    await vi.waitFor(() => expect(prisma.$prefetch.stats().prefetch.cpuBackoffMs).toBeGreaterThan(before), { timeout: 10_000, interval: 10 })
    await prisma.$prefetch.close()
    await base.$disconnect()
  })
})
