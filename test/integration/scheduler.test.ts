import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { withLatency } from '../../bench/latency.ts'
import { prefetch, rule, type PrefetchOptions } from '../../src/index.ts'
import { createTestClient, spyExtension } from '../helpers/db.ts'
import { setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const rows = await seed(env.bare)

/** Eight rules: after a user is read, eight different post lists of theirs are worth fetching. */
const eightLists = Array.from({ length: 8 }, (_, i) =>
  rule('User.findUnique').then('Post.findMany', ({ result }) => (result ? { where: { authorId: result.id, title: { startsWith: `Post ${i}` } } } : null)),
)

/**
 * A client whose database round trips take `rttMs`, with the most statements in flight at once
 * measured at the adapter (`peak.max`), and statements whose SQL matches `failing` failing there.
 */
async function measuredClient(options: PrefetchOptions, rttMs = 30, failing?: RegExp) {
  const peak = { max: 0 }
  let finished = 0
  const slow = withLatency(env.db.adapterFactory(), rttMs, async (sql) => {
    peak.max = Math.max(peak.max, slow.trips.queries - finished)
    finished++
    if (failing?.test(sql)) throw new Error('injected database failure')
  })
  const spy = spyExtension()
  const base = await createTestClient({ ...env.db, adapterFactory: () => slow.factory })
  const prisma = base.$extends(prefetch({ cpu: false, ...options })).$extends(spy.extension)
  await prisma.tag.count() // connect
  prisma.$prefetch.resetStats()
  peak.max = 0
  return { prisma, spy, peak, trips: slow.trips }
}

describe('the scheduler', () => {
  it('never has more speculative queries in flight than the global limit (measured at the adapter)', async () => {
    const { prisma, peak } = await measuredClient({ learn: false, rules: eightLists, maxPerTrigger: 8, concurrency: { global: 2, perSession: 8 } })
    await prisma.user.findUnique({ where: { id: rows.alice.id } })
    await prisma.$prefetch.idle()
    expect(peak.max).toBe(2)
    expect(prisma.$prefetch.stats().prefetch).toMatchObject({ issued: 8, completed: 8, failed: 0 })
  })

  it('keeps one session to its own limit, queued and running', async () => {
    const { prisma, peak } = await measuredClient({ learn: false, rules: eightLists, maxPerTrigger: 8, concurrency: { global: 8, perSession: 3 } })
    await prisma.$prefetch.session('one', () => prisma.user.findUnique({ where: { id: rows.alice.id } }))
    await prisma.$prefetch.idle()
    expect(peak.max).toBe(3)
    expect(prisma.$prefetch.stats().prefetch).toMatchObject({ issued: 3, skipped: { sessionBusy: 5 } })
  })

  it('drops candidates that waited longer than queueTimeout, and refuses more than maxQueue', async () => {
    const timed = await measuredClient({ learn: false, rules: eightLists, maxPerTrigger: 8, concurrency: 1, queueTimeout: 10 })
    await timed.prisma.user.findUnique({ where: { id: rows.alice.id } })
    await timed.prisma.$prefetch.idle()
    expect(timed.prisma.$prefetch.stats().prefetch).toMatchObject({ issued: 1, expired: 7 })

    const bounded = await measuredClient({ learn: false, rules: eightLists, maxPerTrigger: 8, concurrency: 1, maxQueue: 2 })
    await bounded.prisma.user.findUnique({ where: { id: rows.alice.id } })
    await bounded.prisma.$prefetch.idle()
    expect(bounded.prisma.$prefetch.stats().prefetch).toMatchObject({ issued: 3, skipped: { queueFull: 5 } })
  })

  it('keeps a failing speculative query away from every user query, and backs off', async () => {
    const errors: string[] = []
    const failing = rule('User.findUnique').then('Post.findMany', ({ result }) => ({ where: { authorId: result.id }, orderBy: { body: 'desc' } }))
    const { prisma } = await measuredClient(
      { learn: false, rules: [failing], onError: (error, context) => errors.push(`${context.phase}: ${(error as Error).message}`) },
      5,
      /ORDER BY .*body["`]? DESC/i,
    )
    const user = await prisma.user.findUnique({ where: { id: rows.alice.id } })
    await prisma.$prefetch.idle()
    expect(user!.id).toBe(rows.alice.id)
    const stats = prisma.$prefetch.stats()
    expect(stats.prefetch).toMatchObject({ issued: 1, failed: 1, completed: 0 })
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^prefetch: .*injected database failure/)
    // Database trouble halves the speculative limit (8 -> 4) ...
    expect(stats.scheduler.limit).toBe(4)
    // ... and calm demand reads bring it back up, one step per 20.
    const posts = await env.bare.post.findMany({ select: { id: true }, take: 20 })
    for (const post of posts) await prisma.post.findUnique({ where: { id: post.id } })
    expect(prisma.$prefetch.stats().scheduler.limit).toBe(5)
    // The same read asked for by the user runs on its own, and its failure is the database's.
    await expect(prisma.post.findMany({ where: { authorId: rows.alice.id }, orderBy: { body: 'desc' } })).rejects.toThrow(/injected database failure/)
    await expect(prisma.post.findMany({ where: { authorId: rows.alice.id } })).resolves.toHaveLength(
      (await env.bare.post.findMany({ where: { authorId: rows.alice.id } })).length,
    )
  })

  it('never serves a scheduled speculative result that a write outdated during its flight', async () => {
    let hold: Promise<void> | undefined
    let release!: () => void
    let reachedHold = false
    const gated = withLatency(env.db.adapterFactory(), 0, (sql) => {
      if (hold === undefined || !/select/i.test(sql) || !sql.includes('Comment')) return undefined
      reachedHold = true
      return hold
    })
    const base = await createTestClient({ ...env.db, adapterFactory: () => gated.factory })
    const comments = rule('Post.findUnique').then('Comment.findMany', ({ result }) => ({ where: { postId: result.id }, orderBy: { id: 'asc' } }))
    const prisma = base.$extends(prefetch({ learn: false, rules: [comments] }))
    hold = new Promise<void>((resolve) => (release = resolve))
    const post = rows.posts[3]
    await prisma.post.findUnique({ where: { id: post.id } }) // schedules the comments, which the adapter holds
    while (!reachedHold) await new Promise((resolve) => setTimeout(resolve, 1))
    hold = undefined
    const first = await env.bare.comment.findFirst({ where: { postId: post.id }, orderBy: { id: 'asc' } })
    await prisma.comment.update({ where: { id: first!.id }, data: { text: 'edited during the flight' } })
    release()
    await prisma.$prefetch.idle()
    expect(prisma.$prefetch.stats().prefetch).toMatchObject({ issued: 1, completed: 1 })
    const served = await prisma.comment.findMany({ where: { postId: post.id }, orderBy: { id: 'asc' } })
    expect(served[0].text).toBe('edited during the flight')
    expect(prisma.$prefetch.stats().prefetchHits).toBe(0)
    await base.$disconnect()
  })

  it('counts a speculative result dropped unused as wasted, and time saved by the used ones', async () => {
    const posts = rule('User.findUnique').then('Post.findMany', ({ result }) => ({ where: { authorId: result.id } }))
    const { prisma } = await measuredClient({ learn: false, rules: [posts] }, 5)
    await prisma.user.findUnique({ where: { id: rows.alice.id } })
    await prisma.$prefetch.idle()
    await prisma.$prefetch.invalidate()
    expect(prisma.$prefetch.stats().prefetch).toMatchObject({ completed: 1, used: 0, wasted: 1 })
    expect(prisma.$prefetch.stats().byStrategy.rule).toMatchObject({ completed: 1, used: 0, wasted: 1 })

    // Time is saved only once a warm demand read of the kind has been measured (the first is cold).
    for (const title of ['a', 'b']) await prisma.post.findMany({ where: { title } })
    await prisma.user.findUnique({ where: { id: rows.bob.id } })
    await prisma.$prefetch.idle()
    await prisma.post.findMany({ where: { authorId: rows.bob.id } })
    const stats = prisma.$prefetch.stats()
    expect(stats.prefetch).toMatchObject({ completed: 2, used: 1, wasted: 1 })
    expect(stats.savedMs).toBeGreaterThan(0)
    expect(stats.byStrategy.rule.savedMs).toBe(stats.savedMs)
  })

  it('raises the threshold when precision falls short of targetPrecision', async () => {
    // A rule that is always wrong: what it fetches is never read.
    const wrong = rule('Tag.findUnique').then('Comment.findMany', ({ result }) => ({ where: { text: `never ${result?.name}` } }), { probability: 0.5 })
    const { prisma } = await measuredClient({ learn: false, rules: [wrong], targetPrecision: 0.8 }, 0)
    const tags = await env.bare.tag.findMany()
    for (let i = 0; i < 60; i++) {
      await prisma.tag.findUnique({ where: { id: tags[i % tags.length].id, name: tags[i % tags.length].name } })
      await prisma.$prefetch.idle()
      await prisma.$prefetch.invalidate()
    }
    const stats = prisma.$prefetch.stats()
    expect(stats.scheduler.threshold).toBeGreaterThan(0.5)
    // Once above the rule's probability, nothing more is run.
    expect(stats.prefetch.issued).toBeLessThan(60)
  })

  it('in shadow mode sends no speculative query and still measures precision and coverage', async () => {
    const posts = rule('User.findUnique').then('Post.findMany', ({ result }) => ({ where: { authorId: result.id } }))
    const { prisma, trips } = await measuredClient({ learn: false, rules: [posts], shadow: true }, 0)
    const before = trips.queries
    await prisma.user.findUnique({ where: { id: rows.alice.id } })
    await prisma.$prefetch.idle()
    expect(trips.queries - before).toBe(1) // the user read only
    await prisma.post.findMany({ where: { authorId: rows.alice.id } }) // predicted: would have been a hit
    await prisma.user.findUnique({ where: { id: rows.bob.id } })
    await prisma.post.count() // bob's posts never read: a wrong prediction
    const stats = prisma.$prefetch.stats()
    expect(stats.prefetch).toMatchObject({ issued: 2, completed: 2, used: 1 })
    expect(stats.precision).toBe(0.5)
    expect(stats.coverage).toBe(1 / 4)
    expect(stats.dbQueries).toBe(4)
  })

  it('starts a read whose arguments are known while the read that predicts it is still running', async () => {
    let before = 0
    let sentWhenUserDone = -1
    const slow = withLatency(env.db.adapterFactory(), 30, async (sql) => {
      if (/FROM\s+\S*User/.test(sql) && sentWhenUserDone < 0) sentWhenUserDone = slow.trips.queries - before
    })
    const base = await createTestClient({ ...env.db, adapterFactory: () => slow.factory })
    const prisma = base.$extends(prefetch({}))
    // Each training session reads another user, so the posts' author is learned as the user read's
    // argument (not as one remembered value); `take` is one remembered value, known before any result.
    for (let i = 0; i < 6; i++) {
      const trainee = await env.bare.user.create({ data: { email: `early-${i}@example.com` } })
      await prisma.$prefetch.session(`train-${i}`, async () => {
        await prisma.user.findUnique({ where: { id: trainee.id } })
        await prisma.post.findMany({ where: { authorId: trainee.id }, take: 1 })
      })
    }
    await prisma.$prefetch.idle()
    await prisma.$prefetch.invalidate()
    await prisma.$prefetch.session('early', async () => {
      before = slow.trips.queries
      sentWhenUserDone = -1
      await prisma.user.findUnique({ where: { id: rows.alice.id } })
    })
    await prisma.$prefetch.idle()
    // When the user's row came back, the posts query had been sent already: 2 statements, not 1.
    expect(sentWhenUserDone).toBe(2)
    await base.$disconnect()
  })

  it('after close(), the process exits by itself: no timer or handle is left', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', new URL('../support/close-and-exit.ts', import.meta.url).pathname], {
      env: { ...process.env, TEST_DATABASE_FILE: env.db.url ?? '' },
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(child.stderr).not.toMatch(/Error/)
    expect(child.stdout).toContain('closed')
    expect(child.status).toBe(0)
  })
})
