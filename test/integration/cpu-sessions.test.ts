/**
 * Sessions sampled whole under CPU pressure, against a real client: while the event loop is
 * busier than `cpu.maxUtilization`, only 1 session in `cpu.learnEvery` (the same ones every time,
 * `sessionSampled`) is shown to the learner; the reads of the others are served as ever, counted
 * in `prefetch.cpuBackoffSampledOut`, and change nothing that was learned (nor are they combined:
 * test/integration/combining.test.ts, where Prisma joins relations). A
 * session that skipped reads starts a new history at its next read observed: no transition is
 * learned across the gap, nor anything predicted from what it read before it. Calm again, every
 * session is observed.
 */
import { describe, expect, it, vi } from 'vitest'
import { sessionSampled } from '../../src/middleware/cpu-pressure.ts'
import { prefetchWith } from '../../src/middleware/extension.ts'
import { countingAdapter, createTestClient, spyExtension } from '../helpers/db.ts'
import { setup } from '../support/setup.ts'

const env = await setup()
await env.bare.user.createMany({ data: Array.from({ length: 120 }, (_, i) => ({ email: `u${i}@sessions.test`, name: `User ${i}` })) })
const users = await env.bare.user.findMany({ orderBy: { id: 'asc' } })
await env.bare.post.createMany({ data: users.flatMap((u) => [0, 1].map((k) => ({ title: `Post ${k} of ${u.id}`, authorId: u.id }))) })
const opened: { $disconnect(): Promise<void> }[] = []
const LEARN_EVERY = 4

/** `n` session ids starting with `prefix` that the back-off observes (`sampled`) or leaves out. */
function sessionIds(prefix: string, n: number, sampled: boolean): string[] {
  const ids: string[] = []
  for (let i = 0; ids.length < n; i++) if (sessionSampled(`${prefix}${i}`, LEARN_EVERY) === sampled) ids.push(`${prefix}${i}`)
  return ids
}

/** A client whose utilisation the test sets; settled contexts never sampled (settledAfter 1000), so whole sessions are the only sampling. */
async function client() {
  const source = { utilization: 0, reads: 0 }
  const counting = countingAdapter(env.db.adapterFactory())
  const spy = spyExtension()
  const base = await createTestClient({ ...env.db, adapterFactory: () => counting.factory })
  opened.push(base)
  const cpu = { maxUtilization: 0.8, sampleMs: 10, learnEvery: LEARN_EVERY, settledAfter: 1000 }
  const prisma = base.$extends(prefetchWith({ cpu }, { utilization: () => (source.reads++, source.utilization) })).$extends(spy.extension)
  /** Sets the utilisation and waits past `cpu.busyWindows` (3) samples of it. */
  const load = async (utilization: number) => {
    source.utilization = utilization
    const before = source.reads
    await vi.waitFor(() => expect(source.reads).toBeGreaterThan(before + 3), { timeout: 10_000, interval: 5 })
  }
  return { prisma, spy, sql: counting.stats, load }
}
type Client = Awaited<ReturnType<typeof client>>['prisma']

let next = 0
/** A user not read before in this file (a repeat would be a cache hit). */
const fresh = () => users[next++].id

/** A user page: the user, then their posts; each result checked against the bare client's. */
async function page(prisma: Client, session: string, id = fresh()) {
  await prisma.$prefetch.session(session, async () => {
    expect(await prisma.user.findUnique({ where: { id } })).toEqual(await env.bare.user.findUnique({ where: { id } }))
    const args = { where: { authorId: id }, orderBy: { id: 'asc' as const } }
    expect(await prisma.post.findMany(args)).toEqual(await env.bare.post.findMany(args))
  })
  await prisma.$prefetch.idle()
}
/** Observations of the posts read after a user read. */
const support = (prisma: Client) => prisma.$prefetch.model().transitions.find((t) => t.after.length === 1 && t.after[0].startsWith('User.findUnique') && t.next.startsWith('Post.findMany'))?.support ?? 0

describe('sessions sampled under CPU pressure', () => {
  it('while busy, learns nothing from the sessions left out (counted) and everything from the sampled ones', async () => {
    const { prisma, spy, sql, load } = await client()
    for (const session of sessionIds('calm-', 8, true).concat(sessionIds('calm-', 4, false))) await page(prisma, session)
    expect(support(prisma)).toBe(12)
    await load(0.95)

    const model = prisma.$prefetch.model()
    const before = { stats: prisma.$prefetch.stats(), calls: spy.calls.length, sql: sql.queries }
    const out = sessionIds('out-', 10, false)
    for (const session of out) await page(prisma, session)
    const left = prisma.$prefetch.stats()
    expect(left.prefetch.cpuBackoffReads - before.stats.prefetch.cpuBackoffReads).toBe(20)
    expect(left.prefetch.cpuBackoffSampledOut - before.stats.prefetch.cpuBackoffSampledOut).toBe(20)
    // What was learned is as it was: no transition, no session, no template.
    expect(prisma.$prefetch.model()).toEqual(model)
    // Both reads of each page reach the database as the application's own, one statement each,
    // as with prefetch({ learn: false }); nothing speculative.
    expect(spy.calls.length - before.calls).toBe(20)
    expect(sql.queries - before.sql).toBe(20)
    expect(left.prefetch.issued).toBe(before.stats.prefetch.issued)

    for (const session of sessionIds('in-', 6, true)) await page(prisma, session)
    const sampled = prisma.$prefetch.stats()
    expect(sampled.prefetch.cpuBackoffReads - left.prefetch.cpuBackoffReads).toBe(12)
    expect(sampled.prefetch.cpuBackoffSampledOut).toBe(left.prefetch.cpuBackoffSampledOut)
    expect(support(prisma)).toBe(12 + 6)
    expect(prisma.$prefetch.model().sessions).toBe(model.sessions + 6)
    await prisma.$prefetch.close()
  })

  it('after the pause, a session that skipped reads neither learns nor predicts from its read before them', async () => {
    const { prisma, spy, load } = await client()
    const empty = { where: { id: 0 } }
    // Learned while calm: a user, an empty list, then the user's posts (by the id read two steps back).
    for (const session of sessionIds('learn-', 10, true)) {
      const id = fresh()
      await prisma.$prefetch.session(session, async () => {
        await prisma.user.findUnique({ where: { id } })
        await prisma.post.findMany(empty)
        await prisma.post.findMany({ where: { authorId: id } })
      })
      await prisma.$prefetch.idle()
    }
    const emptyAfterUser = () =>
      prisma.$prefetch.model().transitions.find((t) => t.after.length === 1 && t.after[0].startsWith('User.findUnique') && t.next.startsWith('Post.findMany'))?.support ?? 0
    const learned = emptyAfterUser()
    expect(learned).toBeGreaterThanOrEqual(10)

    // The same pattern in a session the back-off leaves out, with a read it skipped in between.
    const [gap] = sessionIds('gap-', 1, false)
    const [before, skipped] = [fresh(), fresh()]
    await prisma.$prefetch.session(gap, () => prisma.user.findUnique({ where: { id: before } }))
    await prisma.$prefetch.idle()
    // The posts of `before` it chained to are prefetched already: a write ends that entry, so
    // that a prediction of them after the pause would show as a speculative read.
    await prisma.post.create({ data: { title: 'New post', authorId: before } })
    const afterBefore = emptyAfterUser()
    await load(0.95)
    await prisma.$prefetch.session(gap, () => prisma.user.findUnique({ where: { id: skipped } }))
    await load(0.2)
    const speculative = spy.speculative.length
    await prisma.$prefetch.session(gap, () => prisma.post.findMany(empty))
    await prisma.$prefetch.idle()
    // No "user before the pause -> empty list" learned, and no posts of the user read before the
    // pause prefetched (the session has read another user since).
    expect(emptyAfterUser()).toBe(afterBefore)
    const sent = spy.speculative.slice(speculative).map((call) => (call.args as { where?: { authorId?: unknown } }).where?.authorId)
    expect(sent).not.toContain(before)
    await prisma.$prefetch.close()
  })

  it('calm again, observes every session as before', async () => {
    const { prisma, load } = await client()
    const out = sessionIds('again-', 6, false)
    await load(0.95)
    for (const session of out.slice(0, 3)) await page(prisma, session)
    expect(support(prisma)).toBe(0)
    await load(0.2)
    const calm = prisma.$prefetch.stats()
    for (const session of out) await page(prisma, session)
    const after = prisma.$prefetch.stats()
    expect(after.prefetch.cpuBackoffReads).toBe(calm.prefetch.cpuBackoffReads)
    expect(after.prefetch.cpuBackoffSampledOut).toBe(calm.prefetch.cpuBackoffSampledOut)
    expect(support(prisma)).toBe(6)
    await prisma.$prefetch.close()
  })
})

process.on('beforeExit', () => void Promise.all(opened.map((c) => c.$disconnect())))
