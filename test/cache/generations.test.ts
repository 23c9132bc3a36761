import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { BoundedGenerations, isRowKey, LocalGenerations, modelOfKey, ROW_ABSENT, rowKey, rowsKey, SharedGenerations } from '../../src/cache/generations.ts'
import { brokenStore, memoryStores, redisStores, type StoreUnderTest } from '../support/stores.ts'
import { describeWith, redis } from '../support/services.ts'

describe('LocalGenerations', () => {
  it('changes the token of exactly the bumped models', async () => {
    const gens = new LocalGenerations()
    const before = gens.current(['User', 'Post'])
    await gens.bump(['User'])
    const after = gens.current(['User', 'Post'])
    expect(after[0]).not.toBe(before[0])
    expect(after[1]).toBe(before[1])
    expect(gens.peek(['User', 'Post'])).toEqual(after) // known without I/O, always
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
describeWith(await redis(), 'Redis', () => describeSharedGenerations(redisStores()))

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

describe('BoundedGenerations', () => {
  /** Two processes on one store: `here` bounded with a clock the test moves, `there` strict. */
  function twoProcesses(maxStalenessMs: number) {
    const stores = memoryStores()
    const { store } = stores.make()
    let reads = 0
    const counted = { ...store, get: store.get.bind(store), set: store.set.bind(store), delete: store.delete.bind(store), getMany: (keys: string[]) => (reads++, store.getMany(keys)) }
    const fail = (error: unknown) => {
      throw error
    }
    const clock = { now: 1000 }
    const here = new BoundedGenerations(new SharedGenerations(counted, 1000, fail), maxStalenessMs, () => clock.now)
    const there = new SharedGenerations(stores.make().store, 1000, fail)
    return { here, there, clock, reads: () => reads }
  }

  it('reuses tokens for maxStalenessMs without a round trip, then reads them again', async () => {
    const { here, clock, reads } = twoProcesses(100)
    const first = await here.current(['User', 'Post'])
    const trips = reads()
    clock.now += 100
    expect(here.current(['User', 'Post'])).toEqual(first) // synchronous: no round trip
    expect(reads()).toBe(trips)
    clock.now += 1
    expect(await here.current(['User', 'Post'])).toEqual(first)
    expect(reads()).toBe(trips + 1)
  })

  it('tells the tokens it knows without a round trip (peek), and nothing once they are stale or unknown', async () => {
    const { here, clock, reads } = twoProcesses(100)
    expect(here.peek(['User'])).toBeUndefined() // never read: not known here
    const first = await here.current(['User', 'Post'])
    const trips = reads()
    clock.now += 100
    expect(here.peek(['User', 'Post'])).toEqual(first)
    expect(here.peek(['User', 'Tag'])).toBeUndefined() // one of them unknown: none told
    clock.now += 1
    expect(here.peek(['User', 'Post'])).toBeUndefined()
    expect(reads()).toBe(trips) // a peek never reads the store
    expect(await here.current(['User', 'Post'])).toEqual(first)
    expect(here.peek(['User', 'Post'])).toEqual(first)
  })

  it('sees a write of another process at most maxStalenessMs after it completed', async () => {
    const { here, there, clock } = twoProcesses(100)
    const before = await here.current(['User'])
    await there.bump(['User'])
    clock.now += 50
    expect(await here.current(['User'])).toEqual(before) // within the stated staleness
    clock.now += 51
    expect(await here.current(['User'])).not.toEqual(before)
  })

  it('reads tokens afresh once the clock has stepped back, instead of keeping them as long as it went back', async () => {
    const { here, there, clock, reads } = twoProcesses(100)
    const before = await here.current(['User'])
    await there.bump(['User'])
    clock.now -= 3_600_000 // the clock is set back an hour: every age now comes out negative
    const trips = reads()
    expect(await here.current(['User'])).not.toEqual(before)
    expect(reads()).toBe(trips + 1)
    // Read at the new time, the token is then reused for maxStalenessMs as usual.
    clock.now += 100
    expect(here.current(['User'])).not.toEqual(before)
    expect(reads()).toBe(trips + 1)
  })

  it('sees a write of its own process at once', async () => {
    const { here, there } = twoProcesses(60_000)
    const before = await here.current(['User'])
    await here.bump(['User'])
    const after = await here.current(['User'])
    expect(after).not.toEqual(before)
    expect(await there.current(['User'])).toEqual(after)
  })

  it('does not keep what a read got while a bump of its model was under way', async () => {
    const { store } = memoryStores().make()
    let release!: () => void
    let holding = false
    const slow = {
      get: store.get.bind(store),
      set: store.set.bind(store),
      delete: store.delete.bind(store),
      getMany: async (keys: string[]) => {
        const values = await store.getMany(keys)
        if (holding) await new Promise<void>((resolve) => (release = resolve))
        return values
      },
    }
    const here = new BoundedGenerations(new SharedGenerations(slow, 5000, () => {}), 60_000, () => 0)
    await new SharedGenerations(store, 5000, () => {}).current(['User']) // the token exists
    holding = true
    const reading = here.current(['User']) // reads the token before the bump, returns after it
    await new Promise((resolve) => setTimeout(resolve, 5))
    holding = false
    await here.bump(['User'])
    release()
    const old = await reading
    const after = await here.current(['User'])
    expect(after).not.toEqual(old)
  })
})

describe('row generations', () => {
  it('a row key reads the same until its row is written, and the bound holds: a forgotten row ends every row read of its model', async () => {
    const gens = new LocalGenerations(3)
    const read = ['Post#id=1', rowsKey('Post')]
    const before = gens.current(read)
    await gens.bump(['Post#id=2', 'Post#id=3', 'Post'])
    expect(gens.current(read)).toEqual(before)
    await gens.bump(['Post#id=1'])
    const written = gens.current(read)
    expect(written[0]).not.toBe(before[0])
    expect(written[1]).toBe(before[1])
    for (let id = 4; id < 100; id++) await gens.bump([`Post#id=${id}`])
    expect(gens.rowCount).toBe(3)
    // Post#id=1 was forgotten: it reads as never written again, but the model's rows key moved.
    const after = gens.current(read)
    expect(after).not.toEqual(before)
    expect(after).not.toEqual(written)
    expect(gens.current(['User#id=1', rowsKey('User')])).toEqual(['0', '0'])
  })

  it('keys name their model', () => {
    expect(modelOfKey(rowKey('User', 'email', '"a#b@c"'))).toBe('User')
    expect(isRowKey(rowKey('User', 'email', '"rows"'))).toBe(true)
    expect(isRowKey(rowsKey('User'))).toBe(false)
    expect(isRowKey('User')).toBe(false)
  })

  it('tell row keys from model and rows keys as the suffix after the first # says (property), and remember rows keys within a bound', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('#', 'r', 'o', 'w', 's', 'U', '=', '1') }), (key) => {
        const at = key.indexOf('#')
        expect(isRowKey(key)).toBe(at >= 0 && key.slice(at) !== '#rows')
      }),
      { numRuns: 5000 },
    )
    for (const key of ['#rows', 'U#rows', 'U#rowsx', 'U#row', 'U#rows#rows', 'U#id=#rows', '#']) {
      expect(isRowKey(key)).toBe(key.slice(key.indexOf('#')) !== '#rows')
    }
    for (let i = 0; i < 3000; i++) expect(rowsKey(`M${i}`)).toBe(`M${i}#rows`)
    for (let i = 0; i < 3000; i++) expect(rowKey(`M${i % 50}`, `f${i}`, 'n1')).toBe(`M${i % 50}#f${i}=n1`)
  })

  it('in process memory, say whether tokens are the current ones without making the list of them (property)', () => {
    const key = fc.constantFrom('User', 'Post', 'User#rows', 'User#id=1', 'User#id=2', 'Post#id=1')
    fc.assert(
      fc.property(fc.array(fc.array(key, { maxLength: 3 }), { maxLength: 6 }), fc.array(key, { maxLength: 4 }), fc.array(fc.constantFrom('0', '1', '2'), { maxLength: 4 }), (bumps, keys, tokens) => {
        const gens = new LocalGenerations(2)
        for (const bump of bumps) void gens.bump(bump)
        expect(gens.matches(keys, gens.current(keys))).toBe(true)
        expect(gens.matches(keys, tokens)).toBe(gens.current(keys).length === tokens.length && gens.current(keys).every((token, i) => token === tokens[i]))
      }),
      { numRuns: 1000 },
    )
  })

  it('in a shared store, a row never written holds no token and reads as absent; a written one holds a token with the row ttl', async () => {
    const { store } = memoryStores().make()
    const ttls = new Map<string, number | undefined>()
    const recording = {
      get: (key: string) => store.get(key),
      getMany: (keys: string[]) => store.getMany(keys),
      set: (key: string, value: string, ttl?: number) => {
        ttls.set(key, ttl)
        return store.set(key, value, ttl)
      },
      delete: (key: string) => store.delete(key),
    }
    const gens = new SharedGenerations(recording, 1000, (error) => {
      throw error
    }, 'g:', 123_456_789)
    const first = await gens.current(['Post', 'Post#id=1'])
    expect(first![1]).toBe(ROW_ABSENT)
    expect([...ttls.keys()]).toEqual(['g:Post']) // the model's token was made; the row's was not
    await gens.bump(['Post#id=1'])
    expect(ttls.get('g:Post#id=1')).toBe(123_456_789)
    const second = await gens.current(['Post', 'Post#id=1'])
    expect(second![0]).toBe(first![0])
    expect(second![1]).not.toBe(ROW_ABSENT)
  })

  it('a row key holding something that is not a token (another type, or the absent marker) gets a fresh token', async () => {
    const { store } = memoryStores().make()
    const gens = new SharedGenerations(store, 1000, (error) => {
      throw error
    }, 'g:')
    for (const forged of [42, ROW_ABSENT, null, { token: 'x' }]) {
      await store.set('g:Post#id=1', forged)
      const [token] = (await gens.current(['Post#id=1']))!
      expect(token).not.toBe(ROW_ABSENT)
      expect(await store.get('g:Post#id=1')).toBe(token)
    }
  })

  it('bounds the rows remembered as not yet written: past the bound they fold into their model', async () => {
    const gens = new SharedGenerations(brokenStore('reject'), 20, () => {}, 'g:', undefined, 4)
    await gens.bump(Array.from({ length: 50 }, (_, i) => `Post#id=${i}`))
    expect(gens.dirtyCount).toBeLessThanOrEqual(5)
    expect(await gens.current([rowsKey('Post'), 'Post#id=49'])).toBeUndefined()
    await gens.close()
  })

  it('bounded staleness keeps at most its bound of keys, and a read that overlapped a forgotten bump is not kept', async () => {
    const stores = memoryStores()
    let release: () => void = () => {}
    const { store } = stores.make()
    let hold = false
    const slow = {
      get: (key: string) => store.get(key),
      getMany: async (keys: string[]) => {
        const values = await store.getMany(keys)
        if (hold) await new Promise<void>((resolve) => (release = resolve))
        return values
      },
      set: (key: string, value: string, ttl?: number) => store.set(key, value, ttl),
      delete: (key: string) => store.delete(key),
    }
    const here = new BoundedGenerations(new SharedGenerations(slow, 5000, () => {}), 60_000, () => 0, 2)
    const there = new SharedGenerations(store, 5000, () => {})
    hold = true
    const reading = here.current(['Post#id=1'])
    await new Promise((resolve) => setTimeout(resolve, 10))
    // While the read runs: this process bumps the row, then two other keys push it out.
    await here.bump(['Post#id=1'])
    await here.bump(['Post#id=2'])
    await here.bump(['Post#id=3'])
    release()
    await reading
    hold = false
    const now = await here.current(['Post#id=1'])
    expect(now).toEqual(await there.current(['Post#id=1']))
  })
})
