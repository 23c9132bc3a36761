import KeyvRedis from '@keyv/redis'
import Keyv from 'keyv'
import pg from 'pg'
import { PrismaPg } from '@prisma/adapter-pg'
import { afterAll, describe, expect, it } from 'vitest'
import { withLatency } from '../../bench/latency.ts'
import { prefetch, rule, type PrefetchOptions } from '../../src/index.ts'
import { createTestClient, provider, spyExtension } from '../helpers/db.ts'
import { setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'
import { tcpProxy, type TcpProxy } from '../support/tcp-proxy.ts'
import { REDIS_URL } from '../support/stores.ts'
import { describeWith, redis as redisService } from '../support/services.ts'

/**
 * Faults of the shared store (real Redis behind a TCP proxy that goes down, comes back, slows
 * and flaps) and of the database (speculative queries failing, a connection pool run dry).
 * Every user query must succeed with the database's own result, every failure must be counted,
 * and caching must come back when the fault goes.
 */
const env = await setup()
const rows = await seed(env.bare)
const redis = new URL(REDIS_URL)
const proxies: TcpProxy[] = []
const adapters: KeyvRedis<unknown>[] = []
afterAll(async () => {
  for (const adapter of adapters) await adapter.disconnect().catch(() => {})
  for (const proxy of proxies) await proxy.close()
})

async function redisBehindProxy(options?: { startDown?: boolean }) {
  const proxy = await tcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) }, options)
  proxies.push(proxy)
  const namespace = `faults-${process.pid}-${proxies.length}`
  const make = () => {
    const adapter = new KeyvRedis(proxy.url)
    adapters.push(adapter)
    return new Keyv({ store: adapter, namespace, useKeyPrefix: false })
  }
  return { proxy, namespace, make }
}

const STORE_TIMEOUT = 100
const quiet = { onError: () => {} }

/** The reads the fault tests make, each checked against the bare client. */
const reads = [
  (c: any) => c.user.findUnique({ where: { id: rows.alice.id }, include: { profile: true } }),
  (c: any) => c.post.findMany({ where: { authorId: rows.bob.id }, orderBy: { id: 'asc' }, take: 5 }),
  (c: any) => c.tag.findMany({ orderBy: { name: 'asc' } }),
]

async function readAllAndCompare(prisma: any, bare: any): Promise<void> {
  for (const read of reads) expect(await read(prisma)).toStrictEqual(await read(bare))
}

/** Reads until one is served from the cache (the store is usable again); false after `ms`. */
async function recovers(prisma: any, bare: any, ms = 15_000): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const before = prisma.$prefetch.stats().hits
    await readAllAndCompare(prisma, bare)
    if (prisma.$prefetch.stats().hits > before) return true
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return false
}

const failures = (prisma: any) => {
  const { errors } = prisma.$prefetch.stats()
  return errors.store + errors.timeouts
}

describeWith(await redisService(), 'a shared Redis store that fails', () => {
  it('down at start: every query is answered by the database, failures counted, and caching starts when it comes up', async () => {
    const { proxy, make } = await redisBehindProxy({ startDown: true })
    const { prisma, bare } = await env.client({ cache: make(), storeTimeout: STORE_TIMEOUT, ...quiet })
    for (let i = 0; i < 3; i++) await readAllAndCompare(prisma, bare)
    await prisma.user.update({ where: { id: rows.bob.id }, data: { rating: 0.5 } })
    await readAllAndCompare(prisma, bare)
    expect(prisma.$prefetch.stats().hits).toBe(0)
    expect(failures(prisma)).toBeGreaterThan(0)
    proxy.up()
    expect(await recovers(prisma, bare)).toBe(true)
  })

  it('going down mid-run: no entry is served while generations cannot be read, writes made meanwhile are never missed', async () => {
    const { proxy, make } = await redisBehindProxy()
    const { prisma, bare } = await env.client({ cache: make(), storeTimeout: STORE_TIMEOUT, ...quiet })
    await readAllAndCompare(prisma, bare)
    await readAllAndCompare(prisma, bare)
    const cached = prisma.$prefetch.stats().hits
    expect(cached).toBe(reads.length)

    proxy.down()
    await prisma.user.update({ where: { id: rows.alice.id }, data: { name: 'Alice (written while the store was down)' } })
    for (let i = 0; i < 3; i++) await readAllAndCompare(prisma, bare)
    expect(prisma.$prefetch.stats().hits).toBe(cached)
    expect(failures(prisma)).toBeGreaterThan(0)

    proxy.up()
    expect(await recovers(prisma, bare)).toBe(true)
    // The write made while the store was down is in what is served now.
    expect((await reads[0](prisma)).name).toBe('Alice (written while the store was down)')
  })

  it('slow (replies held 3 s, storeTimeout 100 ms): reads do not wait for it, timeouts are counted, and it recovers', async () => {
    const { proxy, make } = await redisBehindProxy()
    const { prisma, bare } = await env.client({ cache: make(), storeTimeout: STORE_TIMEOUT, ...quiet })
    await readAllAndCompare(prisma, bare)
    proxy.slow(3000)
    const delivered = proxy.replies
    for (let i = 0; i < 2; i++) {
      await readAllAndCompare(prisma, bare)
      // Every read above finished before a single held reply reached the client.
      expect(proxy.replies).toBe(delivered)
    }
    expect(prisma.$prefetch.stats().errors.timeouts).toBeGreaterThan(0)
    proxy.slow(0)
    expect(await recovers(prisma, bare)).toBe(true)
  })

  it('flapping, with two clients writing and reading the same rows: every query succeeds and no read is older than its own client\'s writes', async () => {
    const { proxy, make } = await redisBehindProxy()
    const a = await env.client({ cache: make(), storeTimeout: STORE_TIMEOUT, ...quiet })
    const b = await env.client({ cache: make(), storeTimeout: STORE_TIMEOUT, ...quiet })
    const flapping = setInterval(() => (Math.random() < 0.5 ? proxy.down() : proxy.up()), 150)
    const stale: string[] = []
    let operations = 0
    try {
      const until = Date.now() + 3000
      // Each worker owns a counter row and alternates writes and reads of it through its client.
      await Promise.all(
        [a, b, a, b].map(async ({ prisma }, worker) => {
          const id = worker % 2 === 0 ? rows.alice.id : rows.bob.id
          let written = -1
          while (Date.now() < until) {
            const user = await prisma.user.update({ where: { id }, data: { karma: { increment: 1 } }, select: { karma: true } })
            written = Number(user.karma)
            const read = await prisma.user.findUnique({ where: { id }, select: { karma: true } })
            if (Number(read!.karma) < written) stale.push(`worker ${worker} wrote ${written}, then read ${read!.karma}`)
            operations += 2
          }
        }),
      )
    } finally {
      clearInterval(flapping)
      proxy.up()
    }
    expect(operations).toBeGreaterThan(40)
    expect(stale).toEqual([])
    expect(failures(a.prisma) + failures(b.prisma)).toBeGreaterThan(0)
    expect(await recovers(a.prisma, a.bare)).toBe(true)
    expect(await recovers(b.prisma, b.bare)).toBe(true)
  })

  it('a write whose generation bump could not reach the store is retried in the background until other processes see it', async () => {
    const { proxy, make } = await redisBehindProxy()
    const writer = await env.client({ cache: make(), storeTimeout: STORE_TIMEOUT, ...quiet })
    const reader = await env.client({ cache: make(), storeTimeout: STORE_TIMEOUT, ...quiet })
    const read = (c: any) => c.user.findUnique({ where: { id: rows.bob.id }, select: { name: true } })
    await read(reader.prisma)
    await read(reader.prisma)
    expect(reader.prisma.$prefetch.stats().hits).toBe(1)
    proxy.down()
    await writer.prisma.user.update({ where: { id: rows.bob.id }, data: { name: 'Bob, renamed while the store was down' } })
    proxy.up()
    // No read through the writer: the retry alone must carry the bump to the store.
    const until = Date.now() + 10_000
    let seen: string | null = null
    while (Date.now() < until && seen !== 'Bob, renamed while the store was down') {
      seen = (await read(reader.prisma)).name
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(seen).toBe('Bob, renamed while the store was down')
  })
})

describe('a database that fails speculative queries', () => {
  it('never fails the user query, even one that joined the failing speculative query, and prefetching recovers', async () => {
    // The next Post statement, once it has run, waits for `hold` and then fails.
    let failNext = false
    let hold: Promise<void> | undefined
    const faulty = withLatency(env.db.adapterFactory(), 0, async (sql) => {
      if (!failNext || !/[`"]Post[`"]/.test(sql)) return
      failNext = false
      await hold
      throw new Error('injected database failure')
    })
    const spy = spyExtension()
    const base = await createTestClient({ ...env.db, adapterFactory: () => faulty.factory })
    const errors: string[] = []
    const postsOf = rule('User.findUnique').then('Post.findMany', ({ result }) => (result ? { where: { authorId: result.id }, orderBy: { id: 'asc' } } : null))
    const prisma = base.$extends(prefetch({ learn: false, cpu: false, rules: [postsOf], onError: (_e, c) => errors.push(c.phase) })).$extends(spy.extension)
    const posts = (id: number) => ({ where: { authorId: id }, orderBy: { id: 'asc' as const } })

    // 1. The speculative query fails while the user's query has joined it: the user's runs on its own.
    failNext = true
    let release!: () => void
    hold = new Promise((resolve) => (release = resolve))
    await prisma.user.findUnique({ where: { id: rows.alice.id } })
    const joined = prisma.post.findMany(posts(rows.alice.id)).then((result) => result) // Prisma's promises start when awaited
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(prisma.$prefetch.stats().scheduler.inFlight).toBe(1)
    release()
    expect(await joined).toStrictEqual(await env.bare.post.findMany(posts(rows.alice.id)))
    // It had joined the speculative query, and then sent its own.
    expect(spy.calls.filter((call) => call.model === 'Post')).toHaveLength(1)
    expect(prisma.$prefetch.stats().lateHits).toBe(0)
    await prisma.$prefetch.idle()
    let stats = prisma.$prefetch.stats()
    expect(stats.prefetch.failed).toBeGreaterThanOrEqual(1)
    expect(errors).toContain('prefetch')
    expect(stats.scheduler.limit).toBeLessThan(8)

    // 2. The fault goes: after calm demand reads the limit grows back, and prefetching serves again.
    // (+1 per 20 calm reads; a read slowed by a busy machine counts as pressure, hence no fixed count.)
    for (let i = 0; i < 2000 && prisma.$prefetch.stats().scheduler.limit < 8; i++) await prisma.tag.findMany({ where: { name: `t${i}` } })
    stats = prisma.$prefetch.stats()
    expect(stats.scheduler.limit).toBe(8)
    await prisma.user.findUnique({ where: { id: rows.bob.id } })
    await prisma.$prefetch.idle()
    const before = spy.calls.length
    expect(await prisma.post.findMany(posts(rows.bob.id))).toStrictEqual(await env.bare.post.findMany(posts(rows.bob.id)))
    expect(spy.calls.length - before).toBe(0)
    await base.$disconnect()
  })
})

describe.runIf(provider === 'postgresql')('a connection pool run dry by slow speculative queries', () => {
  /**
   * A pool whose Post statements hold their connection 600 ms (slow speculative queries); demand
   * queries give up after waiting 250 ms for a connection, as an application with a pool timeout
   * would. `held.max` is the most connections Post statements held at once.
   */
  class SlowPostPool extends pg.Pool {
    held = { now: 0, max: 0 }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    override query(config: any, ...rest: any[]): any {
      if (rest.length > 0 || typeof config !== 'object' || !/"Post"/.test(config.text)) return super.query(config, ...rest)
      return (async () => {
        const client = await this.connect()
        this.held.max = Math.max(this.held.max, ++this.held.now)
        try {
          await new Promise((resolve) => setTimeout(resolve, 600))
          return await client.query(config)
        } finally {
          this.held.now--
          client.release()
        }
      })()
    }
  }

  async function run(options: PrefetchOptions) {
    const pool = new SlowPostPool({ connectionString: env.db.url, max: 4, connectionTimeoutMillis: 250 })
    const base = await createTestClient({ ...env.db, adapterFactory: () => new PrismaPg(pool) })
    let n = 0
    // Each user read predicts a different post list, so every one is a new speculative query.
    const postsOf = rule('User.findFirst').then('Post.findMany', ({ result }) => (result ? { where: { authorId: result.id }, skip: n++ % 1000 } : null))
    const prisma = base.$extends(prefetch({ learn: false, cpu: false, rules: [postsOf], ...quiet, ...options }))
    await prisma.user.count()
    const failed: string[] = []
    // Two workers: the application never has more than two queries of its own in flight.
    await Promise.all(
      [0, 1].map(async (worker) => {
        for (let i = 0; i < 15; i++) {
          try {
            // Arguments never repeat, so each read goes to the database.
            const where = { id: worker ? rows.alice.id : rows.bob.id, email: { not: `nobody-${worker}-${i}` } }
            await prisma.$prefetch.session(`w${worker}`, () => prisma.user.findFirst({ where }))
          } catch (error) {
            failed.push((error as Error).message)
          }
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      }),
    )
    await prisma.$prefetch.close()
    await base.$disconnect()
    await pool.end()
    return { failed, held: pool.held, stats: prisma.$prefetch.stats() }
  }

  it('without concurrency.connections the speculative queries take every connection and user queries time out', async () => {
    const { failed, held } = await run({ concurrency: { global: 8, perSession: 8 } })
    expect(held.max).toBe(4)
    expect(failed.length).toBeGreaterThan(0)
    expect(failed[0]).toMatch(/timeout/i)
  })

  it('with concurrency.connections they leave `reserve` connections free and every user query succeeds', async () => {
    const { failed, held, stats } = await run({ concurrency: { global: 8, perSession: 8, connections: 4, reserve: 2 } })
    expect(failed).toEqual([])
    expect(held.max).toBeGreaterThan(0)
    expect(held.max).toBeLessThanOrEqual(2)
    expect(stats.prefetch.issued).toBeGreaterThan(0)
  })
})
