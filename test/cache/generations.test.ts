import { afterAll, describe, expect, it } from 'vitest'
import { LocalGenerations, SharedGenerations } from '../../src/cache/generations.ts'
import { brokenStore, memoryStores, redisStores, type StoreUnderTest } from '../support/stores.ts'

describe('LocalGenerations', () => {
  it('changes the token of exactly the bumped models', async () => {
    const gens = new LocalGenerations()
    const before = gens.current(['User', 'Post'])
    await gens.bump(['User'])
    const after = gens.current(['User', 'Post'])
    expect(after[0]).not.toBe(before[0])
    expect(after[1]).toBe(before[1])
  })
})

function describeSharedGenerations(stores: StoreUnderTest) {
  describe(`SharedGenerations on ${stores.name}`, () => {
    const closers: Array<() => Promise<void>> = []
    const open = () => {
      const { store, close } = stores.make()
      closers.push(close)
      return new SharedGenerations(store, 1000, (error) => {
        throw error
      })
    }
    afterAll(async () => {
      for (const close of closers) await close()
    })

    it('reads the same tokens twice and new ones after a bump', async () => {
      const gens = open()
      const first = await gens.current(['A', 'B'])
      expect(await gens.current(['A', 'B'])).toEqual(first)
      await gens.bump(['A'])
      const second = await gens.current(['A', 'B'])
      expect(second![0]).not.toBe(first![0])
      expect(second![1]).toBe(first![1])
    })

    it('shows one process the bumps of another', async () => {
      const one = open()
      const two = open()
      const before = await one.current(['Shared'])
      expect(await two.current(['Shared'])).toEqual(before)
      await two.bump(['Shared'])
      expect(await one.current(['Shared'])).not.toEqual(before)
    })

    it('never loses one of two concurrent bumps', async () => {
      const one = open()
      const two = open()
      for (let round = 0; round < 20; round++) {
        const before = await one.current(['Race'])
        await Promise.all([one.bump(['Race']), two.bump(['Race'])])
        const after = await two.current(['Race'])
        expect(after).not.toEqual(before)
        expect(await one.current(['Race'])).toEqual(after)
      }
    })
  })
}

describeSharedGenerations(memoryStores())
describeSharedGenerations(redisStores())

describe('SharedGenerations when the store fails', () => {
  it.each(['throw', 'reject', 'hang'] as const)('reports unknown generations when the store does %s', async (mode) => {
    const errors: unknown[] = []
    const gens = new SharedGenerations(brokenStore(mode), 20, (error) => errors.push(error))
    expect(await gens.current(['User'])).toBeUndefined()
    await gens.bump(['User'])
    expect(errors.length).toBeGreaterThanOrEqual(2)
  })

  it('treats a model whose bump failed as unknown until a bump reaches the store', async () => {
    const { store } = memoryStores().make()
    let failing = false
    const flaky = {
      get: (key: string) => store.get(key),
      set: (key: string, value: string, ttl?: number) => (failing ? Promise.reject(new Error('down')) : store.set(key, value, ttl)),
      delete: (key: string) => store.delete(key),
    }
    const gens = new SharedGenerations(flaky, 100, () => {})
    const before = await gens.current(['User'])
    failing = true
    await gens.bump(['User'])
    // The store still holds the old token, but this process knows a write went unrecorded.
    expect(await gens.current(['User'])).toBeUndefined()
    failing = false
    const after = await gens.current(['User'])
    expect(after).toBeDefined()
    expect(after).not.toEqual(before)
  })
})
