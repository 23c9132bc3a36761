// What partitions the shared store beyond a query's own arguments: the client's result-shaping
// configuration (global omit), its schema, and the key an entry was stored under.

import { afterAll, describe, expect, it } from 'vitest'
import { prefetch } from '../../src/index.ts'
import type { KeyvLike, PrefetchOptions } from '../../src/types.ts'
import { createTestClient, spyExtension } from '../helpers/db.ts'
import { memoryStores, redisClusterStores, redisStores, type MadeStore, type StoreUnderTest } from '../support/stores.ts'
import { describeWith, redis, redisCluster } from '../support/services.ts'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const rows = await seed(env.bare)

/** Wraps `store` so that every key an entry is written under is recorded, in order. */
function recording(store: KeyvLike) {
  const entries: string[] = []
  const wrapped: KeyvLike = {
    get: (key) => store.get(key),
    getMany: (keys) => store.getMany!(keys),
    delete: (key) => store.delete(key),
    set: (key, value, ttl) => {
      if (key.startsWith('prisma-prefetch:entry:') && !entries.includes(key)) entries.push(key)
      return store.set(key, value, ttl)
    },
  }
  return { store: wrapped, entries }
}

/**
 * A client of the test schema whose runtime data model has one more field on Tag than the
 * database (what a client generated after a migration that added a column looks like to the
 * extension), with the same probes as env.client().
 */
async function clientOfAnotherSchema(options: PrefetchOptions) {
  const bare = await createTestClient(env.db)
  made.push(bare)
  const internals = bare as unknown as { _runtimeDataModel: { models: Record<string, { fields: object[] }> } }
  const model = internals._runtimeDataModel
  // A copy on this instance only: the generated module's data model stays as it was.
  internals._runtimeDataModel = {
    ...model,
    models: { ...model.models, Tag: { ...model.models.Tag, fields: [...model.models.Tag.fields, { name: 'slug', kind: 'scalar', type: 'String' }] } },
  }
  const spy = spyExtension()
  const prisma = bare.$extends(prefetch({ storeTimeout: 5000, cpu: false, ...options })).$extends(spy.extension)
  return { prisma, bare, spy }
}
const made: Array<{ $disconnect(): Promise<void> }> = []
afterAll(async () => {
  for (const client of made) await client.$disconnect()
})

function describePartitions(stores: StoreUnderTest<MadeStore | Promise<MadeStore>>) {
  describe(`clients sharing ${stores.name}`, () => {
    const closers: Array<() => Promise<void>> = []
    afterAll(async () => {
      for (const close of closers) await close()
    })
    const open = async () => {
      const made = await stores.make()
      closers.push(made.close)
      return made.store
    }

    it('with different global omit: each gets the bare shape of its own client; the same omit shares', async () => {
      const omitting = { omit: { user: { email: true, settings: true } } } as const
      const a = await env.client({ cache: await open() }, omitting)
      const b = await env.client({ cache: await open() })
      const a2 = await env.client({ cache: await open() }, omitting)
      const b2 = await env.client({ cache: await open() })
      const read = (c: any) => c.user.findUnique({ where: { id: rows.alice.id }, include: { profile: true } })
      const shapeA = await read(a.bare)
      const shapeB = await read(b.bare)
      expect(Object.keys(shapeA)).not.toContain('email')
      expect(Object.keys(shapeB)).toContain('email')

      expect(await read(a.prisma)).toStrictEqual(shapeA)
      await a.prisma.$prefetch.idle() // in the store now
      let before = b.spy.calls.length
      expect(await read(b.prisma)).toStrictEqual(shapeB)
      expect(reached(b.spy.calls, before)).toBe(1) // not served a's entry
      await b.prisma.$prefetch.idle()

      // The same configuration still shares, across clients, both ways.
      before = a2.spy.calls.length
      expect(await read(a2.prisma)).toStrictEqual(shapeA)
      expect(reached(a2.spy.calls, before)).toBe(0)
      before = b2.spy.calls.length
      expect(await read(b2.prisma)).toStrictEqual(shapeB)
      expect(reached(b2.spy.calls, before)).toBe(0)

      // Generations are shared whatever the configuration: a write by one invalidates the other's.
      await b.prisma.user.update({ where: { id: rows.alice.id }, data: { name: 'Alice (omit)' } })
      before = a2.spy.calls.length
      expect(await read(a2.prisma)).toStrictEqual(await read(a.bare))
      expect(reached(a2.spy.calls, before)).toBe(1)
      await b.prisma.user.update({ where: { id: rows.alice.id }, data: { name: 'Alice' } })
    })

    it('of different schemas: an entry written under schema A is not served under B, and is under A again', async () => {
      const a = await env.client({ cache: await open() })
      const b = await clientOfAnotherSchema({ cache: await open() })
      const a2 = await env.client({ cache: await open() })
      const read = (c: any) => c.tag.findMany({ orderBy: { id: 'asc' } })
      const expected = await read(env.bare)
      expect(await read(a.prisma)).toStrictEqual(expected)
      await a.prisma.$prefetch.idle()

      let before = b.spy.calls.length
      expect(await read(b.prisma)).toStrictEqual(expected)
      expect(reached(b.spy.calls, before)).toBe(1) // schema B does not read schema A's entry
      await b.prisma.$prefetch.idle()
      before = b.spy.calls.length
      expect(await read(b.prisma)).toStrictEqual(expected)
      expect(reached(b.spy.calls, before)).toBe(0) // its own entry, from L1

      before = a2.spy.calls.length
      expect(await read(a2.prisma)).toStrictEqual(expected)
      expect(reached(a2.spy.calls, before)).toBe(0) // schema A's entry, served to A again

      // Generations stay shared across schema versions: a write of B invalidates A's entries.
      await b.prisma.tag.update({ where: { id: rows.tags[0].id }, data: { name: 'orm (B)' } })
      before = a2.spy.calls.length
      expect(await read(a2.prisma)).toStrictEqual(await read(env.bare))
      expect(reached(a2.spy.calls, before)).toBe(1)
      await env.bare.tag.update({ where: { id: rows.tags[0].id }, data: { name: 'orm' } })
      await a2.prisma.$prefetch.invalidate('Tag')
    })

    it('an entry the store returns for another key is a counted decode miss, and the key is cached afresh', async () => {
      const { store, entries } = recording(await open())
      const c = await env.client({ cache: store, l1: false, learn: false, onError: () => {} })
      const readOne = (x: any) => x.tag.findUnique({ where: { id: rows.tags[0].id } })
      const readTwo = (x: any) => x.tag.findUnique({ where: { id: rows.tags[1].id } })
      const one = await readOne(env.bare)
      const two = await readTwo(env.bare)
      expect(one).not.toStrictEqual(two)
      await readOne(c.prisma)
      await c.prisma.$prefetch.idle()
      await readTwo(c.prisma)
      await c.prisma.$prefetch.idle()
      expect(entries).toHaveLength(2)
      const [keyOfOne, keyOfTwo] = entries

      // Both entries are valid under the current generations; only the key they sit under is wrong.
      await stores.copy(keyOfOne, keyOfTwo)
      const decode = c.prisma.$prefetch.stats().errors.decode
      let before = c.spy.calls.length
      expect(await readTwo(c.prisma)).toStrictEqual(two)
      expect(reached(c.spy.calls, before)).toBe(1)
      expect(c.prisma.$prefetch.stats().errors.decode).toBe(decode + 1)
      await c.prisma.$prefetch.idle()

      // The miss stored the right entry over it: a hit again; the other key was never disturbed.
      before = c.spy.calls.length
      expect(await readTwo(c.prisma)).toStrictEqual(two)
      expect(await readOne(c.prisma)).toStrictEqual(one)
      expect(reached(c.spy.calls, before)).toBe(0)
      expect(c.prisma.$prefetch.stats().errors.decode).toBe(decode + 1)
    })
  })
}

describePartitions(memoryStores())
describeWith(await redis(), 'Redis', () => describePartitions(redisStores()))
describeWith(await redisCluster(), 'Redis Cluster', () => describePartitions(redisClusterStores()))

describe('a store that answers with the value of another key', () => {
  it('is never served: every swapped answer is a counted miss answered by the database', async () => {
    const { store: backing } = memoryStores().make()
    const { store, entries } = recording(backing)
    let swap = false
    // Once two entries exist, a get of either returns the other's value.
    const swapping: KeyvLike = {
      ...store,
      get: (key) => {
        const other = entries.length === 2 && swap ? entries[entries.indexOf(key) === 0 ? 1 : 0] : undefined
        return backing.get(entries.includes(key) && other !== undefined ? other : key)
      },
    }
    const c = await env.client({ cache: swapping, l1: false, learn: false, onError: () => {} })
    const reads = [rows.posts[1].id, rows.posts[2].id].map((id) => (x: any) => x.post.findUnique({ where: { id }, include: { tags: true } }))
    const expected = await Promise.all(reads.map((read) => read(env.bare)))
    for (const read of reads) {
      await read(c.prisma)
      await c.prisma.$prefetch.idle()
    }
    expect(entries).toHaveLength(2)
    swap = true
    for (let round = 0; round < 2; round++) {
      for (const [i, read] of reads.entries()) {
        const before = c.spy.calls.length
        expect(await read(c.prisma)).toStrictEqual(expected[i])
        expect(reached(c.spy.calls, before)).toBe(1)
        await c.prisma.$prefetch.idle()
      }
    }
    expect(c.prisma.$prefetch.stats().errors.decode).toBe(4)
    expect(c.prisma.$prefetch.stats().hits).toBe(0)
  })
})
