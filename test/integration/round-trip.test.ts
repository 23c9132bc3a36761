import fc from 'fast-check'
import { Decimal } from '@prisma/client-runtime-utils'
import { afterAll, describe, expect, it } from 'vitest'
import { provider } from '../helpers/db.ts'
import { memoryStores, redisStores, type StoreUnderTest } from '../support/stores.ts'
import { describeWith, redis } from '../support/services.ts'
import { reached, setup } from '../support/setup.ts'
import { sameTypes } from '../support/types.ts'

const env = await setup()
let emails = 0

// Values each database keeps exactly (SQLite stores Decimal as REAL: about 15 significant digits).
const decimalDigits = provider === 'sqlite' ? 12 : 28
const decimalArb = fc
  .tuple(fc.bigInt({ min: -(10n ** BigInt(decimalDigits - 4)), max: 10n ** BigInt(decimalDigits - 4) }), fc.integer({ min: 0, max: 4 }))
  .map(([digits, scale]) => new Decimal(`${digits}e-${scale}`))
const jsonArb = fc.jsonValue({ maxDepth: 3 }).filter((value) => JSON.stringify(value) !== undefined)
const userArb = fc.record({
  name: fc.option(fc.string({ maxLength: 30 }), { nil: null }),
  role: fc.constantFrom('USER', 'EDITOR', 'ADMIN'),
  active: fc.boolean(),
  karma: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  balance: decimalArb,
  rating: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }).filter((x) => !Object.is(x, -0)),
  avatar: fc.option(fc.uint8Array({ maxLength: 24 }), { nil: null }),
  settings: fc.option(jsonArb, { nil: null }),
  createdAt: fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }),
})

/** A result as the database returns it, through every store: a second client must get it equal, with the same types. */
function describeRoundTrip(stores: StoreUnderTest) {
  describe(`rows of every scalar type through ${stores.name}`, () => {
    const closers: Array<() => Promise<void>> = []
    afterAll(async () => {
      for (const close of closers) await close()
    })

    it('held in the shared store alone are kept as read, whatever the caller of the miss does to its result', async () => {
      const one = stores.make()
      closers.push(one.close)
      const client = await env.client({ cache: one.store, l1: false, learn: false })
      const { id } = await env.bare.user.create({ data: { email: `rt-${++emails}@example.com`, name: 'Kept', settings: { a: [1] }, avatar: Uint8Array.from([1, 2]) } })
      const args = { where: { id }, include: { posts: true } }
      const fromDatabase = await env.bare.user.findUnique(args)
      const missed = (await client.prisma.user.findUnique(args))!
      expect(missed).toEqual(fromDatabase)
      // The caller owns what it was given: it may change it at once, and at any depth.
      missed.name = 'changed'
      ;(missed.settings as { a: number[] }).a.push(2)
      missed.avatar![0] = 9
      missed.createdAt.setTime(0)
      missed.posts.push({} as never)
      await client.prisma.$prefetch.idle()
      const before = client.spy.calls.length
      const served = await client.prisma.user.findUnique(args)
      expect(reached(client.spy.calls, before)).toBe(0)
      expect(served).toEqual(fromDatabase)
    })

    it('come back deep-equal and with the types the database returns', async () => {
      const one = stores.make()
      const two = stores.make()
      closers.push(one.close, two.close)
      const writer = await env.client({ cache: one.store, l1: false })
      const reader = await env.client({ cache: two.store, l1: false })
      await fc.assert(
        fc.asyncProperty(userArb, async (data) => {
          const { id } = await env.bare.user.create({ data: { ...data, email: `rt-${++emails}@example.com` } as never })
          const args = { where: { id }, include: { profile: true, posts: true } }
          const fromDatabase = await env.bare.user.findUnique(args)
          expect(await writer.prisma.user.findUnique(args)).toEqual(fromDatabase)
          await writer.prisma.$prefetch.idle()
          const before = reader.spy.calls.length
          const fromStore = await reader.prisma.user.findUnique(args)
          expect(reached(reader.spy.calls, before)).toBe(0)
          expect(fromStore).toEqual(fromDatabase)
          sameTypes(fromDatabase, fromStore)
          expect(Object.prototype.toString.call(fromStore!.balance)).toBe('[object Decimal]')
          expect(fromStore!.balance).toBeInstanceOf(fromDatabase!.balance.constructor)
        }),
        { numRuns: 40 },
      )
    })
  })
}

describeRoundTrip(memoryStores())
describeWith(await redis(), 'Redis', () => describeRoundTrip(redisStores()))
