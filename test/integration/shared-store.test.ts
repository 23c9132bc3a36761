import Keyv from 'keyv'
import { afterAll, describe, expect, it } from 'vitest'
import { memoryStores, redisClusterStores, redisStores, type MadeStore, type StoreUnderTest } from '../support/stores.ts'
import { describeWith, redis, redisCluster } from '../support/services.ts'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const rows = await seed(env.bare)

/** Two clients, as two processes would have, sharing one keyv store. */
function describeSharedStore(stores: StoreUnderTest<MadeStore | Promise<MadeStore>>) {
  describe(`two clients sharing ${stores.name}`, () => {
    const closers: Array<() => Promise<void>> = []
    afterAll(async () => {
      for (const close of closers) await close()
    })
    async function pair() {
      const one = await stores.make()
      const two = await stores.make()
      closers.push(one.close, two.close)
      return [await env.client({ cache: one.store }), await env.client({ cache: two.store })] as const
    }

    it('serve each other’s cached results with every type intact', async () => {
      const [a, b] = await pair()
      const read = (c: any) => c.user.findUnique({ where: { id: rows.alice.id }, include: { profile: true, posts: { take: 3 } } })
      const expected = await read(a.bare)
      await read(a.prisma)
      await a.prisma.$prefetch.idle()
      const before = b.spy.calls.length
      expect(await read(b.prisma)).toStrictEqual(expected)
      expect(reached(b.spy.calls, before)).toBe(0)
    })

    it('never serve a result older than a write the other completed', async () => {
      const [a, b] = await pair()
      const read = (c: any) => c.post.findMany({ where: { authorId: rows.bob.id }, orderBy: { id: 'asc' }, select: { id: true, title: true } })
      await read(a.prisma)
      await read(b.prisma) // both hold the result in process memory now
      await a.prisma.$prefetch.idle()
      await a.prisma.post.update({ where: { id: rows.posts[0].id }, data: { title: `shared-${Math.random()}` } })
      expect(await read(b.prisma)).toStrictEqual(await read(b.bare))
      expect(await read(a.prisma)).toStrictEqual(await read(a.bare))
    })

    it('with consistency { maxStalenessMs }: serve a write of the other at most that late, their own writes at once', async () => {
      const clock = { now: Date.now() }
      const one = await stores.make()
      const two = await stores.make()
      closers.push(one.close, two.close)
      const bounded = { consistency: { maxStalenessMs: 500 }, now: () => clock.now }
      const a = await env.client({ cache: one.store, ...bounded })
      const b = await env.client({ cache: two.store, ...bounded })
      const read = (c: any) => c.tag.findUnique({ where: { id: rows.tags[2].id } })
      const original = await read(b.prisma)
      await read(a.prisma) // a holds it too, and its generations
      const calls = b.spy.calls.length
      expect(await read(b.prisma)).toStrictEqual(original)
      expect(reached(b.spy.calls, calls)).toBe(0)
      await a.prisma.tag.update({ where: { id: rows.tags[2].id }, data: { name: `bounded-${Math.random()}` } })
      const written = await read(a.bare)
      clock.now += 400
      expect(await read(b.prisma)).toStrictEqual(original) // within the stated staleness
      expect(await read(a.prisma)).toStrictEqual(written) // the writer sees its own write at once
      clock.now += 101
      expect(await read(b.prisma)).toStrictEqual(written)
    })

    it('share what one learned with a process that starts later, which predicts from its first session', async () => {
      const one = await stores.make()
      const two = await stores.make()
      closers.push(one.close, two.close)
      const a = await env.client({ cache: one.store, learn: { shareIntervalMs: 20 } })
      const page = async (prisma: any, session: string, email: string) =>
        prisma.$prefetch.session(session, async () => {
          const user = await prisma.user.findUnique({ where: { email } })
          return prisma.post.findMany({ where: { authorId: user.id }, orderBy: { id: 'asc' } })
        })
      for (let i = 0; i < 6; i++) await page(a.prisma, `a-${i}`, i % 2 ? rows.alice.email : rows.bob.email)
      // Published within a few intervals (up to 10 s: a loaded machine may take a while).
      for (let wait = 0; wait < 500 && (await one.store.get('prisma-prefetch:learned:index')) === undefined; wait++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await a.prisma.$prefetch.close()

      const b = await env.client({ cache: two.store })
      await b.prisma.$prefetch.idle() // the shared models are read
      expect(b.prisma.$prefetch.model().transitions.length).toBeGreaterThan(0)
      await b.prisma.$prefetch.invalidate() // nothing cached: what follows is prediction at work
      await b.prisma.$prefetch.session('b-first', async () => {
        const user = await b.prisma.user.findUnique({ where: { email: rows.alice.email } })
        await b.prisma.$prefetch.idle()
        const calls = b.spy.calls.length
        await b.prisma.post.findMany({ where: { authorId: user!.id }, orderBy: { id: 'asc' } })
        expect(reached(b.spy.calls, calls)).toBe(0)
      })
      expect(b.prisma.$prefetch.stats().byStrategy.transitions).toMatchObject({ used: 1 })
    })

    it('treat a forged or foreign entry as a miss', async () => {
      const { store, close } = await stores.make()
      closers.push(close)
      const entryKeys = new Set<string>()
      const recording = {
        get: (key: string) => store.get(key),
        getMany: (keys: string[]) => store.getMany(keys),
        delete: (key: string) => store.delete(key),
        set: (key: string, value: string, ttl?: number) => {
          if (key.startsWith('prisma-prefetch:entry:')) entryKeys.add(key)
          return store.set(key, value, ttl)
        },
      }
      const c = await env.client({ cache: recording, l1: false, onError: () => {} })
      const read = (x: any) => x.tag.findMany({ orderBy: { id: 'asc' } })
      const expected = await read(c.bare)
      await read(c.prisma)
      await c.prisma.$prefetch.idle()
      expect(entryKeys.size).toBe(1)
      const forged = [
        'pp0:{"value":1}',
        '{"__proto__":{"polluted":true}}',
        'garbage\u0000',
        JSON.stringify({ deps: [], gens: [], expiresAt: 9e15, source: 'demand', value: 'forged' }),
      ]
      for (const value of forged) {
        for (const key of entryKeys) await store.set(key, value)
        const before = c.spy.calls.length
        expect(await read(c.prisma)).toStrictEqual(expected)
        expect(reached(c.spy.calls, before)).toBe(1)
        await c.prisma.$prefetch.idle()
      }
      expect(c.prisma.$prefetch.stats().errors.decode).toBe(forged.length)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })
  })
}

describe('close() of a process sharing what it learned', () => {
  it('publishes everything learned, even while an earlier publish is still being written', async () => {
    const map = new Map()
    const store = new Keyv({ store: map })
    let modelWrites = 0
    // Writes of a learned model take a while, as on a loaded store: close() comes during one.
    const slow = {
      get: (key: string) => store.get(key),
      getMany: (keys: string[]) => store.getMany(keys),
      delete: (key: string) => store.delete(key),
      set: async (key: string, value: unknown, ttl?: number) => {
        if (/:learned:(?!index)/.test(key)) {
          modelWrites++
          await new Promise((resolve) => setTimeout(resolve, 150))
        }
        return store.set(key, value, ttl)
      },
    }
    const a = await env.client({ cache: slow, learn: { shareIntervalMs: 20 } })
    const page = async (prisma: any, session: string) =>
      prisma.$prefetch.session(session, async () => {
        const user = await prisma.user.findUnique({ where: { email: rows.alice.email } })
        return prisma.post.findMany({ where: { authorId: user.id }, orderBy: { id: 'asc' } })
      })
    await page(a.prisma, 'early')
    while (modelWrites === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    for (let i = 0; i < 6; i++) await page(a.prisma, `late-${i}`)
    await a.prisma.$prefetch.close()

    const b = await env.client({ cache: new Keyv({ store: map }) })
    await b.prisma.$prefetch.idle()
    expect(b.prisma.$prefetch.model().transitions[0]).toMatchObject({ support: 7 })
  })
})

describeSharedStore(memoryStores())
describeWith(await redis(), 'Redis', () => describeSharedStore(redisStores()))
describeWith(await redisCluster(), 'Redis Cluster', () => describeSharedStore(redisClusterStores()))
