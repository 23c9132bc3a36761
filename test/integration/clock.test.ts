// Ages of cached results when the clock steps back. Entries held in process memory and
// generations reused under maxStalenessMs are aged by the in-process clock (performance.now, or
// the injected `now`); entries in a shared store carry the wall-clock time they were written.
// An age that comes out negative is taken as expired, never as time left to live.

import { afterAll, describe, expect, it } from 'vitest'
import { resolveOptions } from '../../src/options.ts'
import { memoryStores, redisStores, type StoreUnderTest } from '../support/stores.ts'
import { describeWith, redis } from '../support/services.ts'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const rows = await seed(env.bare)
const TTL = 60_000
const HOUR = 3_600_000

/** Changes the tag's name beneath every extension: no generation moves, only `ttl` ends an entry. */
const rename = (name: string) => env.bare.tag.update({ where: { id: rows.tags[1].id }, data: { name } })
const read = (c: any) => c.tag.findUnique({ where: { id: rows.tags[1].id } })

describe('the clocks', () => {
  it('ages within the process by performance.now() unless `now` is given, which then drives every age', () => {
    const plain = resolveOptions({})
    expect(plain.now).toBe(Date.now)
    const before = performance.now()
    const reading = plain.monotonic()
    expect(reading).toBeGreaterThanOrEqual(before)
    expect(reading).toBeLessThanOrEqual(performance.now())
    let time = 5
    const injected = resolveOptions({ now: () => time })
    time = 42
    expect([injected.now(), injected.monotonic()]).toEqual([42, 42])
  })
})

describe('an entry in process memory, after the clock steps back', () => {
  it('is not served past its ttl', async () => {
    const clock = { now: 1_000_000_000_000 }
    const c = await env.client({ ttl: TTL, now: () => clock.now, learn: false })
    const original = await read(c.prisma)
    let before = c.spy.calls.length
    clock.now += TTL - 1
    expect(await read(c.prisma)).toStrictEqual(original) // within its ttl: a hit
    expect(reached(c.spy.calls, before)).toBe(0)
    await rename('cache (renamed)')
    clock.now -= HOUR // set back; then more than ttl passes from where it stood
    clock.now += 2
    before = c.spy.calls.length
    expect(await read(c.prisma)).toStrictEqual(await read(env.bare))
    expect(reached(c.spy.calls, before)).toBe(1)
    await rename('cache')
  })
})

function describeSharedClock(stores: StoreUnderTest) {
  describe(`an entry in ${stores.name}`, () => {
    const closers: Array<() => Promise<void>> = []
    afterAll(async () => {
      for (const close of closers) await close()
    })
    const open = () => {
      const made = stores.make()
      closers.push(made.close)
      return made.store
    }

    it('is served to another process within its ttl, and never by one whose clock says it was written in the future', async () => {
      const writer = { now: 1_000_000_000_000 }
      const a = await env.client({ cache: open(), ttl: TTL, now: () => writer.now, learn: false })
      const original = await read(a.prisma)
      await a.prisma.$prefetch.idle() // in the store, written at writer.now

      // A process whose clock agrees, within the ttl: served from the store.
      const same = await env.client({ cache: open(), ttl: TTL, now: () => writer.now + TTL - 1, learn: false })
      let before = same.spy.calls.length
      expect(await read(same.prisma)).toStrictEqual(original)
      expect(reached(same.spy.calls, before)).toBe(0)

      await rename('cache (renamed)')
      // One whose clock runs an hour behind (or was set back): the entry looks written an hour
      // from now, and its remaining life cannot be told. A miss, answered by the database.
      const behind = await env.client({ cache: open(), ttl: TTL, now: () => writer.now - HOUR + TTL + 1, learn: false })
      before = behind.spy.calls.length
      expect(await read(behind.prisma)).toStrictEqual(await read(env.bare))
      expect(reached(behind.spy.calls, before)).toBe(1)
      await rename('cache')
      await a.prisma.$prefetch.invalidate('Tag')
    })

    it('read into process memory keeps the age it had in the store', async () => {
      const clock = { now: 1_000_000_000_000 }
      const a = await env.client({ cache: open(), ttl: TTL, now: () => clock.now, learn: false })
      const original = await read(a.prisma)
      await a.prisma.$prefetch.idle()
      const b = await env.client({ cache: open(), ttl: TTL, now: () => clock.now, learn: false })
      clock.now += TTL - 10
      let before = b.spy.calls.length
      expect(await read(b.prisma)).toStrictEqual(original) // read from the store into b's memory
      expect(reached(b.spy.calls, before)).toBe(0)
      await rename('cache (renamed)')
      clock.now += 10 // its ttl is over, counted from when a wrote it, not from when b read it
      before = b.spy.calls.length
      expect(await read(b.prisma)).toStrictEqual(await read(env.bare))
      expect(reached(b.spy.calls, before)).toBe(1)
      await rename('cache')
      await a.prisma.$prefetch.invalidate('Tag')
    })
  })
}

describeSharedClock(memoryStores())
describeWith(await redis(), 'Redis', () => describeSharedClock(redisStores()))

describe('generations reused under maxStalenessMs, after the clock steps back', () => {
  it('are read afresh: a write of another process is seen no later than maxStalenessMs', async () => {
    const clock = { now: 1_000_000_000_000 }
    const stores = memoryStores()
    const a = await env.client({ cache: stores.make().store, consistency: { maxStalenessMs: 500 }, ttl: TTL, now: () => clock.now, learn: false })
    const b = await env.client({ cache: stores.make().store, learn: false })
    const list = (c: any) => c.tag.findMany({ orderBy: { id: 'asc' } })
    await read(a.prisma) // a knows Tag's token from here
    clock.now -= HOUR
    // Cached after the clock went back, under the token a knows (no write has happened yet).
    const original = await list(a.prisma)
    await a.prisma.$prefetch.idle()
    await b.prisma.tag.update({ where: { id: rows.tags[1].id }, data: { name: 'cache (by b)' } })
    clock.now += 501 // past maxStalenessMs, however the token's age is counted
    const before = a.spy.calls.length
    const served = await list(a.prisma)
    expect(served).toStrictEqual(await list(env.bare))
    expect(served).not.toStrictEqual(original)
    expect(reached(a.spy.calls, before)).toBe(1)
    await rename('cache')
    await a.prisma.$prefetch.invalidate('Tag')
  })
})
