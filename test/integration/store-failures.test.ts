import { describe, expect, it } from 'vitest'
import { brokenStore, memoryStores } from '../support/stores.ts'
import { setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const rows = await seed(env.bare)

describe('a keyv store that fails never fails a query', () => {
  it.each(['throw', 'reject', 'hang', 'garbage'] as const)('when it does %s', async (mode) => {
    const errors: Array<{ error: unknown; phase: string }> = []
    const store = brokenStore(mode)
    const { prisma, bare } = await env.client({
      cache: store,
      l1: false,
      storeTimeout: 30,
      onError: (error, context) => errors.push({ error, phase: context.phase }),
    })
    const read = (c: any) => c.user.findUnique({ where: { id: rows.alice.id }, include: { posts: { take: 2 } } })
    for (let i = 0; i < 3; i++) expect(await read(prisma)).toStrictEqual(await read(bare))
    await prisma.user.update({ where: { id: rows.alice.id }, data: { rating: 1 + Math.random() } })
    expect(await read(prisma)).toStrictEqual(await read(bare))
    await prisma.$prefetch.idle()
    const stats = prisma.$prefetch.stats()
    expect(store.calls).toBeGreaterThan(0)
    expect(errors.length).toBeGreaterThan(0)
    const counted = stats.errors.store + stats.errors.timeouts + stats.errors.decode
    expect(counted).toBe(errors.length)
    if (mode === 'hang') expect(stats.errors.timeouts).toBeGreaterThan(0)
    expect(stats.hits).toBe(0)
  })

  it('even when onError itself throws', async () => {
    const { prisma, bare } = await env.client({
      cache: brokenStore('reject'),
      onError: () => {
        throw new Error('the handler is broken too')
      },
    })
    expect(await prisma.tag.findMany()).toStrictEqual(await bare.tag.findMany())
  })

  it('and an L1 entry is not served while the shared generations cannot be read', async () => {
    let down = false
    const { store } = memoryStores().make()
    const flaky = {
      get: (key: string) => (down ? Promise.reject(new Error('down')) : store.get(key)),
      getMany: (keys: string[]) => (down ? Promise.reject(new Error('down')) : store.getMany(keys)),
      set: (key: string, value: string, ttl?: number) => (down ? Promise.reject(new Error('down')) : store.set(key, value, ttl)),
      delete: (key: string) => store.delete(key),
    }
    const { prisma, spy } = await env.client({ cache: flaky, onError: () => {} })
    await prisma.tag.findMany()
    down = true
    const before = spy.calls.length
    await prisma.tag.findMany()
    expect(spy.calls.length - before).toBe(1)
  })
})
