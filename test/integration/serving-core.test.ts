/**
 * The serving core's parts, each driven directly (no `$extends`), against a real client on a
 * fresh database, with a spy at the driver adapter counting the SQL round trips they make: the
 * read path, the write path, flights shared by identical reads, and the prefetcher.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { resolveOptions } from '../../src/options.ts'
import { rule } from '../../src/index.ts'
import { Stats } from '../../src/stats.ts'
import { resultFingerprint } from '../../src/middleware/fingerprint.ts'
import { Prefetcher } from '../../src/middleware/prefetcher.ts'
import type { CompletedRead, StartedRead } from '../../src/middleware/read-path.ts'
import { QueryRouter } from '../../src/middleware/router.ts'
import { describeSchema } from '../../src/middleware/schema.ts'
import { Sessions } from '../../src/middleware/session.ts'
import type { PrefetchOptions } from '../../src/types.ts'
import { countingAdapter, createTestClient, createTestDatabase } from '../helpers/db.ts'
import { seed } from '../support/seed.ts'

const db = await createTestDatabase()
const counting = countingAdapter(db.adapterFactory())
const client = await createTestClient({ ...db, adapterFactory: () => counting.factory })
const rows = await seed(client)
afterAll(async () => {
  await client.$disconnect()
  await db.drop()
})

type Delegates = Record<string, Record<string, (args: unknown) => Promise<unknown>>>
const delegate = (model: string) => (client as unknown as Delegates)[model[0].toLowerCase() + model.slice(1)]
/** What the hook's `query` would do: send the read or write to the database. */
const query = (model: string, operation: string) => (args: unknown) => delegate(model)[operation](args)

/** A serving core of its own, and a count of SQL round trips from now on. */
function core(options: PrefetchOptions = {}) {
  const resolved = resolveOptions(options)
  const stats = new Stats(resolved.now)
  const sessions = new Sessions()
  const schema = describeSchema(client)
  const router = new QueryRouter({ options: resolved, schema, stats, sessions, transactionTimeoutMs: 5000, fingerprint: resultFingerprint(client), rowsShared: () => true })
  const completed: CompletedRead[] = []
  const started: StartedRead[] = []
  router.reads.completed.subscribe((read) => completed.push(read))
  router.reads.started.subscribe((read) => started.push(read))
  const since = counting.stats.queries
  const sql = () => counting.stats.queries - since
  const read = (model: string, operation: string, args: object) => router.reads.read(model, operation, args, query(model, operation))
  return { resolved, stats, sessions, schema, router, completed, started, sql, read }
}

describe('the read path', () => {
  it('sends a miss to the database once, stores it, and serves the repeat without a query', async () => {
    const { read, sql, stats, started, completed } = core()
    const args = { where: { id: rows.alice.id } }
    const first = await read('User', 'findUnique', args)
    expect(sql()).toBe(1)
    const second = await read('User', 'findUnique', args)
    expect(sql()).toBe(1)
    expect(second).toStrictEqual(first)
    expect(second).not.toBe(first) // each read gets its own copy
    expect(started).toHaveLength(1)
    expect(completed.map((r) => r.dbMs === undefined)).toEqual([false, true])
    expect(stats.snapshot({ entries: 0, bytes: 0 }, { queued: 0, inFlight: 0, limit: 0, threshold: 0 })).toMatchObject({ reads: 2, hits: 1, misses: 1, dbQueries: 1 })
  })

  it('sends every read of a model that is not cached, and tells no one it started', async () => {
    const { read, sql, started } = core({ models: { User: false } })
    const args = { where: { id: rows.bob.id } }
    await read('User', 'findUnique', args)
    await read('User', 'findUnique', args)
    expect(sql()).toBe(2)
    expect(started).toHaveLength(0)
  })

  it('answers a findUnique from a cached list that holds its row, without a query', async () => {
    const { read, sql } = core()
    await read('Post', 'findMany', { where: { authorId: rows.alice.id }, orderBy: { id: 'asc' } })
    const post = rows.posts.find((p: { authorId: number }) => p.authorId === rows.alice.id)!
    const one = await read('Post', 'findUnique', { where: { id: post.id } })
    expect(sql()).toBe(1)
    expect(one).toStrictEqual(await client.post.findUnique({ where: { id: post.id } }))
  })
})

/** `execute`, and a promise that resolves once it has been called (the query is on its way). */
function sending(execute: () => Promise<unknown>) {
  let resolve!: () => void
  const started = new Promise<void>((r) => (resolve = r))
  return {
    started,
    execute: () => {
      resolve()
      return execute()
    },
  }
}

describe('flights', () => {
  it('let identical reads made at once share one query', async () => {
    const { read, sql, stats } = core()
    const args = { where: { authorId: rows.bob.id }, orderBy: { id: 'asc' as const } }
    const [a, b] = await Promise.all([read('Post', 'findMany', args), read('Post', 'findMany', args)])
    expect(sql()).toBe(1)
    expect(b).toStrictEqual(a)
    expect(b).not.toBe(a)
    // A demand flight joined is a hit, not a late hit (nothing speculative was used).
    expect(stats.snapshot({ entries: 0, bytes: 0 }, { queued: 0, inFlight: 0, limit: 0, threshold: 0 })).toMatchObject({ hits: 1, misses: 1, lateHits: 0 })
  })

  it('let a demand read join a speculative read in flight, as a late hit that uses it', async () => {
    const { read, sql, stats, router } = core()
    const args = { where: { id: rows.bob.id }, select: { id: true, name: true } }
    const sent = sending(() => query('User', 'findUnique')(args) as Promise<unknown>)
    const warming = router.speculator.warm('User', 'findUnique', args, sent.execute, 'manual')
    await sent.started // the speculative query is on its way: the read finds it in flight
    const served = await read('User', 'findUnique', args)
    await warming
    expect(sql()).toBe(1)
    expect(served).toStrictEqual(await client.user.findUnique(args))
    const snapshot = stats.snapshot({ entries: 0, bytes: 0 }, { queued: 0, inFlight: 0, limit: 0, threshold: 0 })
    expect(snapshot).toMatchObject({ lateHits: 1, prefetchHits: 0 })
    expect(snapshot.prefetch).toMatchObject({ issued: 1, completed: 1, used: 1 })
  })

  it('send a read of its own when the flight it joined fails, and report the failure once', async () => {
    const errors: unknown[] = []
    const { read, sql, router } = core({ onError: (error) => errors.push(error) })
    const args = { where: { id: rows.alice.id }, select: { email: true } }
    const failing = router.speculator.warm('User', 'findUnique', args, () => Promise.reject(new Error('speculative read failed')), 'manual')
    const served = await read('User', 'findUnique', args)
    await failing
    expect(served).toStrictEqual({ email: rows.alice.email })
    expect(sql()).toBe(1)
    expect(errors).toHaveLength(1)
  })

  it('skip a speculative read whose result is cached or in flight', async () => {
    const { read, sql, stats, router } = core()
    const args = { where: { id: rows.alice.id }, select: { name: true } }
    const execute = () => query('User', 'findUnique')(args) as Promise<unknown>
    const sent = sending(execute)
    const first = router.speculator.warm('User', 'findUnique', args, sent.execute, 'manual')
    await sent.started
    await Promise.all([first, router.speculator.warm('User', 'findUnique', args, execute, 'manual')])
    await router.speculator.warm('User', 'findUnique', args, execute, 'manual')
    await read('User', 'findUnique', args)
    expect(sql()).toBe(1)
    expect(stats.snapshot({ entries: 0, bytes: 0 }, { queued: 0, inFlight: 0, limit: 0, threshold: 0 }).prefetch.skipped).toMatchObject({ inFlight: 1, cached: 1 })
  })
})

describe('the write path', () => {
  it('stops serving the reads of every model a write touched, and only those', async () => {
    const { read, sql, router } = core()
    const user = { where: { id: rows.bob.id } }
    const tags = { orderBy: { id: 'asc' as const } }
    await read('User', 'findUnique', user)
    await read('Tag', 'findMany', tags)
    expect(sql()).toBe(2)
    await router.writes.write('User', 'update', 'write', { where: { id: rows.bob.id }, data: { name: 'Bob B.' } }, query('User', 'update'), undefined)
    expect(sql()).toBe(3)
    expect(await read('User', 'findUnique', user)).toMatchObject({ name: 'Bob B.' })
    expect(sql()).toBe(4)
    await read('Tag', 'findMany', tags)
    expect(sql()).toBe(4)
  })

  it('moves generations on even when the write fails, and rejects with the database error', async () => {
    const { read, sql, router } = core()
    const args = { where: { email: rows.alice.email } }
    await read('User', 'findUnique', args)
    const duplicate = router.writes.write('User', 'create', 'write', { data: { email: rows.alice.email, name: 'again' } }, query('User', 'create'), undefined)
    await expect(duplicate).rejects.toMatchObject({ code: 'P2002' })
    await read('User', 'findUnique', args)
    expect(sql()).toBe(3)
  })

  it('invalidates one model on demand, and names the models when given another', async () => {
    const { read, sql, router } = core()
    const args = { orderBy: { id: 'asc' as const } }
    await read('Tag', 'findMany', args)
    await router.writes.invalidate('Tag')
    await read('Tag', 'findMany', args)
    expect(sql()).toBe(2)
    await expect(router.writes.invalidate('Nope')).rejects.toThrow(/^prisma-prefetch: invalidate\(\) needs a model of this client \(.*User.*\): "Nope"$/)
  })
})

describe('the prefetcher', () => {
  function prefetcher(options: PrefetchOptions) {
    const c = core({ learn: false, ...options })
    const p = new Prefetcher(c.resolved, {
      speculator: c.router.speculator,
      latency: c.router.latency,
      demand: c.router.demand,
      rowsShared: () => true,
      sessions: c.sessions,
      stats: c.stats,
      execute: (model, operation, args) => delegate(model)[operation](args),
      reportError: c.router.reportError,
      schema: c.schema,
    })
    c.router.reads.completed.subscribe((read) => p.observe(read))
    return { ...c, prefetcher: p }
  }
  const postsOf = rule('User.findUnique').then('Post.findMany', ({ result }) => result && { where: { authorId: result.id }, orderBy: { id: 'asc' } })

  it('runs the read a rule predicts after the read it follows, so that read is then served without a query', async () => {
    const { read, sql, prefetcher: p, stats } = prefetcher({ rules: [postsOf] })
    await read('User', 'findUnique', { where: { id: rows.alice.id } })
    await p.idle()
    expect(sql()).toBe(2) // the read and the speculative one
    const posts = await read('Post', 'findMany', { where: { authorId: rows.alice.id }, orderBy: { id: 'asc' } })
    expect(sql()).toBe(2)
    expect(posts).toStrictEqual(await client.post.findMany({ where: { authorId: rows.alice.id }, orderBy: { id: 'asc' } }))
    const snapshot = stats.snapshot({ entries: 0, bytes: 0 }, { queued: 0, inFlight: 0, limit: 0, threshold: 0 })
    expect(snapshot).toMatchObject({ prefetchHits: 1 })
    expect(snapshot.prefetch).toMatchObject({ issued: 1, completed: 1, used: 1 })
  })

  it('runs nothing for a model whose prefetching is off, and counts why', async () => {
    const { read, sql, prefetcher: p, stats } = prefetcher({ rules: [postsOf], models: { Post: { prefetch: false } } })
    await read('User', 'findUnique', { where: { id: rows.bob.id } })
    await p.idle()
    expect(sql()).toBe(1)
    expect(stats.snapshot({ entries: 0, bytes: 0 }, { queued: 0, inFlight: 0, limit: 0, threshold: 0 }).prefetch.skipped).toMatchObject({ modelOff: 1 })
  })

  it('skips a candidate whose result is cached already before it is queued, without a query', async () => {
    const { read, sql, prefetcher: p, stats } = prefetcher({ rules: [postsOf] })
    const posts = { where: { authorId: rows.alice.id }, orderBy: { id: 'asc' } }
    await read('Post', 'findMany', posts)
    expect(sql()).toBe(1)
    for (let i = 0; i < 3; i++) {
      await read('User', 'findUnique', { where: { id: rows.alice.id } })
      // Skipped at once, never queued: nothing waits, nothing runs.
      expect(p.scheduler.queued + p.scheduler.inFlight).toBe(0)
    }
    await p.idle()
    expect(sql()).toBe(2) // the user's first read only; the predicted list was cached
    const snapshot = stats.snapshot({ entries: 0, bytes: 0 }, { queued: 0, inFlight: 0, limit: 0, threshold: 0 })
    expect(snapshot.prefetch).toMatchObject({ issued: 0, skipped: { cached: 3 } })
  })

  it('leaves the session its place in the queue when a candidate is cached already', async () => {
    // Two candidates per read, the first not cached and the second cached, with room for one per
    // session: the cached one is dropped as cached, not refused as the session's second.
    const titles = rule('User.findUnique').then('Post.findMany', ({ result }) => result && { where: { authorId: result.id, title: { startsWith: 'P' } } })
    const { read, sql, prefetcher: p, stats, sessions } = prefetcher({ rules: [titles, postsOf], maxPerTrigger: 2, concurrency: { global: 4, perSession: 1 } })
    await read('Post', 'findMany', { where: { authorId: rows.bob.id }, orderBy: { id: 'asc' } })
    await sessions.run({ sessionId: 's' }, () => read('User', 'findUnique', { where: { id: rows.bob.id } }))
    await p.idle()
    expect(sql()).toBe(3) // the list, the user, and the one speculative read not cached
    const snapshot = stats.snapshot({ entries: 0, bytes: 0 }, { queued: 0, inFlight: 0, limit: 0, threshold: 0 })
    expect(snapshot.prefetch).toMatchObject({ issued: 1, completed: 1, skipped: { cached: 1 } })
    expect(snapshot.prefetch.skipped.sessionBusy).toBeUndefined()
  })

  it('skips a candidate in flight already before it is queued, and its result then serves the read', async () => {
    const { read, sql, prefetcher: p, stats, router } = prefetcher({ rules: [postsOf] })
    const posts = { where: { authorId: rows.alice.id }, orderBy: { id: 'asc' } }
    // The speculative list waits until the user's read is done, so it is in flight all along.
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const sent = sending(() => gate.then(() => query('Post', 'findMany')(posts) as Promise<unknown>))
    const warming = router.speculator.warm('Post', 'findMany', posts, sent.execute, 'manual')
    await sent.started
    await read('User', 'findUnique', { where: { id: rows.alice.id } })
    expect(p.scheduler.queued + p.scheduler.inFlight).toBe(0)
    release()
    await warming
    await p.idle()
    await read('Post', 'findMany', posts)
    expect(sql()).toBe(2) // the user and the list, once
    const snapshot = stats.snapshot({ entries: 0, bytes: 0 }, { queued: 0, inFlight: 0, limit: 0, threshold: 0 })
    expect(snapshot.prefetch).toMatchObject({ issued: 1, skipped: { inFlight: 1 } })
  })

  it('halves the speculative limit when the database strains, once per cooldown', () => {
    const { prefetcher: p, router } = prefetcher({ rules: [postsOf], concurrency: 8 })
    router.pressure.subscribe(() => p.pressure())
    router.pressure.emit()
    router.pressure.emit()
    expect(p.scheduler.limit).toBe(4)
  })
})
