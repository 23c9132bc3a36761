// Speculative reads whose arguments came out missing are dropped before they are queued: a
// learned single-row read by a key taken from a row that has none, and a rule's read built from
// a result without the value, are counted as `skipped.invalid` and never reach the database.
import { describe, expect, it } from 'vitest'
import { prefetch, rule } from '../../src/index.ts'
import type { PrefetchOptions } from '../../src/types.ts'
import { createTestClient, spyExtension } from '../helpers/db.ts'
import { setup } from '../support/setup.ts'

const { db, bare } = await setup()

/** Two users per group, each with a profile, except the second one of the last group. */
const GROUPS = 7
for (let g = 0; g <= GROUPS; g++) {
  // A user without a profile before each pair keeps user ids and profile ids apart, so that the
  // profile's id is learned from `profile.id` of the row and from nothing else.
  await bare.user.create({ data: { email: `filler${g}@example.com` } })
  for (const n of [0, 1]) {
    const withProfile = g < GROUPS || n === 0
    await bare.user.create({ data: { email: `g${g}-${n}@example.com`, ...(withProfile ? { profile: { create: { bio: `g${g}-${n}` } } } : {}) } })
  }
}

/**
 * A client with the extension above a spy: the spy, beneath it, sees every query that goes on to
 * the database, speculative ones included.
 */
async function client(options: PrefetchOptions) {
  const below = spyExtension()
  const errors: unknown[] = []
  const prisma = await createTestClient(db, (c) =>
    c.$extends(below.extension).$extends(prefetch({ cpu: false, ...options, onError: (error) => errors.push(error) })),
  )
  return { prisma, calls: below.calls, errors }
}

const group = (g: number) => ({ where: { email: { startsWith: `g${g}-` } }, include: { profile: true }, orderBy: { id: 'asc' as const } })

describe('speculative reads that cannot be valid are never sent', () => {
  it('a learned key that came out missing: no failed prefetch, nothing sent', async () => {
    const { prisma, calls, errors } = await client({ learn: { minSupport: 3 } })
    // Every visit lists a group and opens the profile of its second user.
    for (let g = 0; g < GROUPS; g++) {
      await prisma.$prefetch.session(`visit-${g}`, async () => {
        const users = await prisma.user.findMany(group(g))
        await prisma.profile.findUnique({ where: { id: users[1].profile!.id } })
      })
      await prisma.$prefetch.idle()
    }
    const learned = prisma.$prefetch.model().transitions.find((t) => t.next === 'Profile.findUnique{where:{id:?}}')
    expect(learned?.arguments[0]).toMatchObject({ from: expect.stringMatching(/^field profile\.id of row 1 /) })
    const trained = prisma.$prefetch.stats().prefetch
    expect(trained.failed).toBe(0)
    prisma.$prefetch.resetStats()

    const since = calls.length
    // The second user of this group has no profile: the learned key is undefined.
    await prisma.$prefetch.session('visit-last', async () => {
      const users = await prisma.user.findMany(group(GROUPS))
      expect(users[1].profile).toBeNull()
      await prisma.$prefetch.idle()
    })
    const stats = prisma.$prefetch.stats().prefetch
    expect(stats.failed).toBe(0)
    // The learner itself proposes no missing key for a unique read any more; the check before the
    // queue (shown with a rule below, and in test/middleware/query-check.test.ts) is the second line.
    const sent = calls.slice(since).filter((call) => call.model === 'Profile' && call.operation === 'findUnique')
    expect(sent).toEqual([])
    expect(errors).toEqual([])
    await prisma.$disconnect()
  })

  it('a rule whose argument came out missing goes through the same check', async () => {
    const { prisma, calls, errors } = await client({
      learn: false,
      rules: [rule('User.findFirst').then('Profile.findUnique', ({ result }: any) => ({ where: { userId: result?.profile?.userId } }))],
    })
    const withProfile = await prisma.user.findFirst({ where: { email: 'g0-1@example.com' }, include: { profile: true } })
    await prisma.$prefetch.idle()
    expect(prisma.$prefetch.stats().prefetch).toMatchObject({ issued: 1, completed: 1, failed: 0 })

    const since = calls.length
    await prisma.user.findFirst({ where: { email: `g${GROUPS}-1@example.com` }, include: { profile: true } })
    await prisma.$prefetch.idle()
    expect(prisma.$prefetch.stats().prefetch).toMatchObject({ issued: 1, failed: 0, skipped: { invalid: 1 } })
    expect(calls.slice(since).map((call) => `${call.model}.${call.operation}`)).toEqual(['User.findFirst'])
    expect(errors).toEqual([])
    // The valid prediction is served.
    expect(await prisma.profile.findUnique({ where: { userId: withProfile!.id } })).toStrictEqual(
      await bare.profile.findUnique({ where: { userId: withProfile!.id } }),
    )
    expect(prisma.$prefetch.stats().prefetchHits).toBe(1)
    await prisma.$disconnect()
  })
})
