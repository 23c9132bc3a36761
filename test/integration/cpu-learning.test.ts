/**
 * Learning that backs off under CPU pressure, against a real client: while the event loop's
 * utilisation is above `cpu.maxUtilization`, reads are still served as the bare client serves
 * them, no speculative statement reaches the driver adapter, no learned prediction is made
 * (`prefetch.cpuBackoffReads`), and in the sessions observed a settled context is learned from 1
 * time in `cpu.learnEvery` (`prefetch.cpuBackoffSampledOut`); when the pressure ends, learning and
 * speculation take up where they were, the history kept meanwhile predicting the right rows.
 * And a loop kept busy by promises alone, whose timers never get a turn, is still seen as busy.
 */
import { describe, expect, it, vi } from 'vitest'
import { sessionSampled } from '../../src/middleware/cpu-pressure.ts'
import { prefetchWith } from '../../src/middleware/extension.ts'
import type { PrefetchOptions } from '../../src/index.ts'
import { countingAdapter, createTestClient, spyExtension } from '../helpers/db.ts'
import { setup } from '../support/setup.ts'

const env = await setup()
// Users enough that no page of a test repeats one (a repeat would be a cache hit, not a prediction).
await env.bare.user.createMany({ data: Array.from({ length: 80 }, (_, i) => ({ email: `u${i}@cpu.test`, name: `User ${i}` })) })
const users = await env.bare.user.findMany({ orderBy: { id: 'asc' } })
await env.bare.post.createMany({ data: users.flatMap((u) => [0, 1].map((k) => ({ title: `Post ${k} of ${u.id}`, authorId: u.id }))) })
const opened: { $disconnect(): Promise<void> }[] = []

/** A client whose utilisation the test sets, counting statements at its driver adapter. */
async function client(cpu: PrefetchOptions['cpu']) {
  const source = { utilization: 0, reads: 0 }
  const counting = countingAdapter(env.db.adapterFactory())
  const spy = spyExtension()
  const base = await createTestClient({ ...env.db, adapterFactory: () => counting.factory })
  opened.push(base)
  const prisma = base.$extends(prefetchWith({ cpu }, { utilization: () => (source.reads++, source.utilization) })).$extends(spy.extension)
  /** Waits until the extension has sampled the source 4 times more: past `cpu.busyWindows` (3) windows in a row. */
  const sampled = async () => {
    const before = source.reads
    await vi.waitFor(() => expect(source.reads).toBeGreaterThan(before + 3), { timeout: 10_000, interval: 5 })
  }
  return { prisma, spy, sql: counting.stats, source, sampled }
}
type Client = Awaited<ReturnType<typeof client>>['prisma']

/** A user page: the user, then their posts; each result checked against the bare client's. */
async function page(prisma: Client, session: string, id: number) {
  await prisma.$prefetch.session(session, async () => {
    expect(await prisma.user.findUnique({ where: { id } })).toEqual(await env.bare.user.findUnique({ where: { id } }))
    const args = { where: { authorId: id }, orderBy: { id: 'asc' as const } }
    expect(await prisma.post.findMany(args)).toEqual(await env.bare.post.findMany(args))
  })
  await prisma.$prefetch.idle()
}
const support = (prisma: Client) => prisma.$prefetch.model().transitions.find((t) => t.after.length === 1 && t.next.startsWith('Post.findMany'))?.support ?? 0

describe('learning under CPU pressure', () => {
  it('samples the learning of settled contexts while the loop is busy, changes no result, and stops when it is calm', async () => {
    const { prisma, spy, sql, source, sampled } = await client({ maxUtilization: 0.8, sampleMs: 10, learnEvery: 4, settledAfter: 10 })
    let n = 0
    const user = () => users[n++ % users.length].id
    for (let i = 0; i < 12; i++) await page(prisma, `calm-${i}`, user())
    expect(spy.speculative.length).toBeGreaterThan(0)
    const learned = support(prisma)
    expect(learned).toBe(12)

    source.utilization = 0.95
    await sampled()
    const before = { stats: prisma.$prefetch.stats(), speculative: spy.speculative.length, sql: sql.queries, calls: spy.calls.length }
    // Sessions the back-off observes (1 in 4, sticky; the others are left out whole, see
    // cpu-sessions.test.ts): within them, settled contexts are sampled.
    const observed = [...Array(200).keys()].map((i) => `busy-${i}`).filter((id) => sessionSampled(id, 4)).slice(0, 20)
    expect(observed).toHaveLength(20)
    for (const session of observed) await page(prisma, session, user())
    const busy = prisma.$prefetch.stats()
    // Every read observed while busy, none predicted for, none sent speculatively.
    expect(busy.reads - before.stats.reads).toBe(40)
    expect(busy.prefetch.cpuBackoffReads - before.stats.prefetch.cpuBackoffReads).toBe(40)
    expect(spy.speculative.length).toBe(before.speculative)
    expect(busy.prefetch.issued).toBe(before.stats.prefetch.issued)
    // The statements at the adapter are the application's misses, one each.
    expect(sql.queries - before.sql).toBe(spy.calls.length - before.calls)
    // Of the 20 posts reads after a user read (a settled context), 1 in 4 was learned from.
    expect(busy.prefetch.cpuBackoffSampledOut - before.stats.prefetch.cpuBackoffSampledOut).toBe(15)
    expect(support(prisma)).toBe(learned + 5)

    source.utilization = 0.2
    await sampled()
    const calm = prisma.$prefetch.stats()
    const hits = calm.prefetchHits
    for (let i = 0; i < 5; i++) await page(prisma, `again-${i}`, users[(n + i) % users.length].id)
    const after = prisma.$prefetch.stats()
    // Sampling stopped: every observation counts again, and speculation serves the posts read.
    expect(after.prefetch.cpuBackoffReads).toBe(calm.prefetch.cpuBackoffReads)
    expect(after.prefetch.cpuBackoffSampledOut).toBe(calm.prefetch.cpuBackoffSampledOut)
    expect(support(prisma)).toBe(learned + 5 + 5)
    expect(after.prefetchHits - hits).toBeGreaterThan(0)
    await prisma.$prefetch.close()
  })

  it('with learnEvery 1, learns from every read while busy, and still predicts nothing', async () => {
    const { prisma, spy, source, sampled } = await client({ maxUtilization: 0.8, sampleMs: 10, learnEvery: 1, settledAfter: 1 })
    for (let i = 0; i < 6; i++) await page(prisma, `calm-${i}`, users[i % users.length].id)
    source.utilization = 0.95
    await sampled()
    const speculative = spy.speculative.length
    for (let i = 0; i < 6; i++) await page(prisma, `busy-${i}`, users[6 + i].id)
    const stats = prisma.$prefetch.stats()
    expect(stats.prefetch.cpuBackoffSampledOut).toBe(0)
    expect(stats.prefetch.cpuBackoffReads).toBe(12)
    expect(support(prisma)).toBe(12)
    expect(spy.speculative.length).toBe(speculative)
    await prisma.$prefetch.close()
  })

  it('sees a loop kept busy by promises alone as busy, though its sampling timer never runs', async () => {
    const { prisma, source } = await client({ maxUtilization: 0.8, sampleMs: 10 })
    source.utilization = 0.95
    const id = users[0].id
    await prisma.user.findUnique({ where: { id } })
    let timers = 0
    const timer = setInterval(() => timers++, 1)
    // Reads one after the other, each awaited: on a synchronous driver nothing here waits for
    // I/O, so no timer runs until the loop ends.
    // At least 200 reads, and more than `cpu.busyWindows` (3) sample windows, then some.
    const until = performance.now() + 60
    let reads = 0
    await prisma.$prefetch.session('loop', async () => {
      while (reads < 200 || performance.now() < until) {
        await prisma.user.findUnique({ where: { id } })
        reads++
      }
    })
    const stats = prisma.$prefetch.stats()
    clearInterval(timer)
    // Only meaningful where the loop starved its timers (SQLite; PostgreSQL's sockets yield).
    if (timers === 0) {
      expect(source.reads).toBeGreaterThan(0)
      expect(stats.prefetch.cpuBackoffReads).toBeGreaterThan(0)
    }
    await prisma.$prefetch.close()
  })
})

process.on('beforeExit', () => void Promise.all(opened.map((c) => c.$disconnect())))
