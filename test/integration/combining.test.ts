import { afterAll, describe, expect, it, vi } from 'vitest'
import { prefetch } from '../../src/index.ts'
import { sessionSampled } from '../../src/middleware/cpu-pressure.ts'
import { prefetchWith } from '../../src/middleware/extension.ts'
import type { PrefetchOptions } from '../../src/types.ts'
import { createTestDatabase, recordingAdapter, type TestClient } from '../helpers/db.ts'
import { combined, joinsClients, tablesOf, type Constructor } from '../helpers/joins-clients.ts'

// Combining: a user read that goes to the database carries the posts read predicted to follow it,
// in one statement, where Prisma runs relations as joins (PostgreSQL with `relationJoins`).
const db = await createTestDatabase()
const { joins, JoinsClient, PlainClient } = await joinsClients(db.provider)

const bare = new PlainClient({ adapter: db.adapterFactory() })
const users: { id: number; email: string }[] = []
for (let i = 0; i < 16; i++) {
  const user = await bare.user.create({ data: { email: `combine${i}@example.com`, name: `user ${i}`, karma: BigInt(i) } })
  for (let p = 0; p < 3; p++) await bare.post.create({ data: { title: `post ${i}.${p}`, authorId: user.id, views: BigInt(p), price: `${p}.5`, published: p % 2 === 0 } })
  users.push(user)
}
const opened: { $disconnect(): Promise<void> }[] = [bare]
afterAll(async () => {
  for (const client of opened) await client.$disconnect()
  await db.drop()
})

// By email: the posts read's authorId comes from the user's row, not from the user read's arguments.
const emailOf = (id: number) => users.find((user) => user.id === id)!.email
const userArgs = (id: number) => ({ where: { email: emailOf(id) }, select: { id: true, name: true, karma: true } })
const postsArgs = (authorId: number) => ({ where: { authorId, published: true }, orderBy: { id: 'asc' as const }, take: 5, omit: { meta: true } })

/** An extended client recording SQL statements at its adapter, with `beneath` applied after prefetch() (its query hooks run beneath the extension's). */
async function client(
  Client: Constructor,
  options: PrefetchOptions = {},
  userRead: (id: number) => object = userArgs,
  pages = users.slice(0, 8),
  patch?: (base: TestClient) => void,
  beneath?: object,
) {
  const counting = recordingAdapter(db.adapterFactory())
  const base = new Client({ adapter: counting.factory })
  patch?.(base)
  const errors: unknown[] = []
  const extended = base.$extends(prefetch({ cpu: false, onError: (error) => errors.push(error), ...options }))
  const prisma = (beneath === undefined ? extended : (extended as unknown as { $extends(e: object): unknown }).$extends(beneath)) as typeof extended
  opened.push(prisma)
  // A user page: the user, then the user's published posts.
  const page = (id: number) =>
    prisma.$prefetch.session(`page-${id}-${Math.random()}`, async () => {
      const user = (await prisma.user.findUnique(userRead(id) as { where: { id: number } }))!
      // A page of `skips` reads the tags instead of the user's posts.
      return { user, posts: skips.has(id) ? await prisma.tag.findMany() : await prisma.post.findMany(postsArgs(user.id)) }
    })
  for (const user of pages) await page(user.id)
  await prisma.$prefetch.idle()
  const since = () => {
    const start = counting.stats.queries
    return () => counting.stats.queries - start
  }
  return { prisma, statements: counting.statements, errors, since }
}

/** Users whose training page reads the tags instead of the posts. */
const skips = new Set<number>()


describe.runIf(joins)('combining on PostgreSQL with relationJoins', () => {
  it('sends a user read that misses with the posts read that follows as one statement, and serves the posts read from it', async () => {
    const { prisma, statements, since } = await client(JoinsClient)
    const id = users[8].id
    const sql = since()
    const user = await prisma.$prefetch.session('visit', async () => {
      const user = await prisma.user.findUnique(userArgs(id))
      expect(sql()).toBe(1)
      const posts = await prisma.post.findMany(postsArgs(id))
      expect(sql()).toBe(1)
      expect(posts).toStrictEqual(await bare.post.findMany(postsArgs(id)))
      return user
    })
    expect(user).toStrictEqual(await bare.user.findUnique(userArgs(id)))
    expect(Object.keys(user!)).toEqual(['id', 'name', 'karma'])
    expect(combined(statements).length).toBeGreaterThan(0)
    await prisma.$prefetch.idle()
    expect(sql()).toBe(1)
    const stats = prisma.$prefetch.stats()
    expect(stats.byStrategy.combine).toMatchObject({ completed: expect.any(Number), used: expect.any(Number) })
    expect(stats.byStrategy.combine.used).toBeGreaterThan(0)
  })

  it('gives the caller the row with its own include, and keeps the relation it did not ask for out', async () => {
    const { prisma } = await client(JoinsClient)
    const id = users[9].id
    const args = { where: { email: emailOf(id) }, include: { profile: true } }
    // Another shape of the user read: not what was learned, so sent as it is; the learned one is combined.
    expect(await prisma.$prefetch.session('v', () => prisma.user.findUnique(args))).toStrictEqual(await bare.user.findUnique(args))
    const user = await prisma.$prefetch.session('w', () => prisma.user.findUnique(userArgs(id)))
    expect(user).toStrictEqual(await bare.user.findUnique(userArgs(id)))
  })

  it('a write between the user read and the posts read is seen by the posts read', async () => {
    const { prisma, since } = await client(JoinsClient)
    const id = users[10].id
    await prisma.$prefetch.session('visit', async () => {
      await prisma.user.findUnique(userArgs(id))
      const first = (await bare.post.findFirst({ where: { authorId: id, published: true }, orderBy: { id: 'asc' } }))!
      await prisma.post.update({ where: { id: first.id }, data: { title: 'changed' } })
      const sql = since()
      const posts = await prisma.post.findMany(postsArgs(id))
      expect(sql()).toBe(1)
      expect(posts[0].title).toBe('changed')
      expect(posts).toStrictEqual(await bare.post.findMany(postsArgs(id)))
    })
  })

  it('combines nothing inside a transaction', async () => {
    const { prisma, statements } = await client(JoinsClient)
    const id = users[11].id
    const before = combined(statements).length
    await prisma.$prefetch.session('visit', () =>
      prisma.$transaction(async (tx) => {
        const user = await tx.user.findUnique(userArgs(id))
        expect(user).toStrictEqual(await bare.user.findUnique(userArgs(id)))
      }),
    )
    expect(combined(statements).length).toBe(before)
    // The same read outside the transaction is combined.
    await prisma.$prefetch.session('after', () => prisma.user.findUnique(userArgs(id)))
    expect(combined(statements).length).toBe(before + 1)
  })

  it('combines nothing for a session the CPU back-off leaves out while the loop is busy, and still does for a sampled one', async () => {
    const source = { utilization: 0, reads: 0 }
    const counting = recordingAdapter(db.adapterFactory())
    const base = new JoinsClient({ adapter: counting.factory })
    const cpu = { sampleMs: 10, busyWindows: 1, learnEvery: 4, settledAfter: 1000 }
    const prisma = base.$extends(prefetchWith({ cpu }, { utilization: () => (source.reads++, source.utilization) }))
    opened.push(prisma)
    const visit = (session: string, id: number) =>
      prisma.$prefetch.session(session, async () => {
        const user = await prisma.user.findUnique(userArgs(id))
        expect(await prisma.post.findMany(postsArgs(id))).toStrictEqual(await bare.post.findMany(postsArgs(id)))
        return user
      })
    for (const user of users.slice(0, 8)) await visit(`train-${user.id}`, user.id)
    await prisma.$prefetch.idle()
    source.utilization = 0.95
    const sampledAt = source.reads
    await vi.waitFor(() => expect(source.reads).toBeGreaterThan(sampledAt + 1), { timeout: 10_000, interval: 5 })
    const session = (sampled: boolean) => [...Array(100).keys()].map((i) => `busy-${i}`).find((id) => sessionSampled(id, cpu.learnEvery) === sampled)!
    const before = combined(counting.statements).length
    let start = counting.stats.queries
    await visit(session(false), users[12].id)
    // Two statements, the user's and the posts', as with prefetch({ learn: false }).
    expect(counting.stats.queries - start).toBe(2)
    expect(combined(counting.statements).length).toBe(before)
    start = counting.stats.queries
    await visit(session(true), users[13].id)
    expect(counting.stats.queries - start).toBe(1)
    expect(combined(counting.statements).length).toBe(before + 1)
  })

  it('learn.combine: false turns it off', async () => {
    const { prisma, statements } = await client(JoinsClient, { learn: { combine: false } })
    await prisma.$prefetch.session('visit', () => prisma.user.findUnique(userArgs(users[12].id)))
    expect(combined(statements)).toEqual([])
    expect(prisma.$prefetch.stats().byStrategy.combine).toBeUndefined()
  })

  it('combines nothing into a model whose reads are not prefetched (models.Post.prefetch: false)', async () => {
    const { prisma, statements } = await client(JoinsClient, { models: { Post: { prefetch: false } } })
    await prisma.$prefetch.session('visit', () => prisma.user.findUnique(userArgs(users[12].id)))
    expect(combined(statements)).toEqual([])
  })

  it('combines nothing when a query hook beneath it runs for the follower', async () => {
    // A hook on Post.findMany alone would not see the posts loaded inside a user read.
    const hook = { query: { post: { findMany: ({ args, query }: { args: object; query: (a: object) => Promise<unknown> }) => query(args) } } }
    const { prisma, statements } = await client(JoinsClient, {}, userArgs, users.slice(0, 8), undefined, hook)
    await prisma.$prefetch.session('visit', () => prisma.user.findUnique(userArgs(users[12].id)))
    expect(combined(statements)).toEqual([])
  })

  it('combines only at or above the learn.combine probability', async () => {
    // Half of the training pages read the tags instead: the posts read follows with probability 0.5.
    const pages = users.slice(0, 12)
    for (const user of pages.filter((_, i) => i % 2 === 1)) skips.add(user.id)
    try {
      const below = await client(JoinsClient, {}, userArgs, pages)
      await below.prisma.$prefetch.session('visit', () => below.prisma.user.findUnique(userArgs(users[13].id)))
      expect(combined(below.statements)).toEqual([])
      const above = await client(JoinsClient, { learn: { combine: 0.4 } }, userArgs, pages)
      await above.prisma.$prefetch.session('visit', () => above.prisma.user.findUnique(userArgs(users[13].id)))
      expect(combined(above.statements).length).toBeGreaterThan(0)
    } finally {
      skips.clear()
    }
  })

  it('combines into a read with an include, and the caller gets exactly its own include', async () => {
    const withProfile = (id: number) => ({ where: { email: emailOf(id) }, include: { profile: true }, omit: { avatar: true } })
    const { prisma, statements, since } = await client(JoinsClient, {}, withProfile)
    const id = users[12].id
    const sql = since()
    await prisma.$prefetch.session('visit', async () => {
      const user = await prisma.user.findUnique(withProfile(id))
      expect(user).toStrictEqual(await bare.user.findUnique(withProfile(id)))
      expect(Object.keys(user!)).toEqual(Object.keys((await bare.user.findUnique(withProfile(id)))!))
      expect(await prisma.post.findMany(postsArgs(id))).toStrictEqual(await bare.post.findMany(postsArgs(id)))
    })
    expect(sql()).toBe(1)
    expect(combined(statements).length).toBeGreaterThan(0)
  })

  it('a combined read Prisma refuses is sent as it is, and combining stops for the process', async () => {
    // A client without relationJoins that says it has it: Prisma refuses relationLoadStrategy.
    const { prisma, statements, errors } = await client(PlainClient, {}, userArgs, users.slice(0, 8), (base) => {
      ;(base as unknown as { _previewFeatures: string[] })._previewFeatures = ['relationJoins']
    })
    // Refused once, while training (once the posts read was learned), and reported: Prisma's
    // validation refuses it before any SQL, so no combined statement reaches the database.
    expect(errors).toHaveLength(1)
    expect((errors[0] as Error).message).toContain('relationLoadStrategy')
    expect(combined(statements)).toEqual([])
    // The refused read was sent again as it is: every training page read its user.
    const userReads = () => statements.filter((sql) => tablesOf(sql)[0] === 'User')
    expect(userReads()).toHaveLength(8)
    const id = users[13].id
    const user = await prisma.$prefetch.session('visit', () => prisma.user.findUnique(userArgs(id)))
    expect(user).toStrictEqual(await bare.user.findUnique(userArgs(id)))
    expect(userReads()).toHaveLength(9)
    expect(errors).toHaveLength(1)
  })
})

describe('combining where Prisma does not run relations as joins', () => {
  it('never combines on a client without relationJoins', async () => {
    const { prisma, statements, since, errors } = await client(PlainClient)
    const id = users[14].id
    const sql = since()
    await prisma.$prefetch.session('visit', () => prisma.user.findUnique(userArgs(id)))
    await prisma.$prefetch.idle()
    // The user read, then the posts read prefetched after it: two statements.
    expect(sql()).toBe(2)
    expect(combined(statements)).toEqual([])
    expect(prisma.$prefetch.stats().byStrategy.combine).toBeUndefined()
    expect(errors).toEqual([])
  })
})
