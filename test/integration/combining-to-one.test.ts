import { afterAll, describe, expect, it } from 'vitest'
import { prefetch } from '../../src/index.ts'
import type { PrefetchOptions } from '../../src/types.ts'
import { createTestDatabase, recordingAdapter, type TestClient } from '../helpers/db.ts'
import { combined, joinsClients, tablesOf, type Constructor } from '../helpers/joins-clients.ts'

// Combining into to-one relations: a row read that goes to the database carries the read of the
// row its foreign key names (a post, then its author), or of the rows its foreign keys name (a
// follow, then both users in one `in` list), in one statement, where Prisma runs relations as
// joins (PostgreSQL with `relationJoins`).
const db = await createTestDatabase()
const { joins, JoinsClient, PlainClient } = await joinsClients(db.provider)

const bare = new PlainClient({ adapter: db.adapterFactory() })
const users: { id: number }[] = []
for (let i = 0; i < 24; i++) {
  users.push(await bare.user.create({ data: { email: `toone${i}@example.com`, name: `user ${i}`, karma: BigInt(i), mentorId: i % 4 === 3 ? null : (users[i - 1]?.id ?? null) } }))
}
const posts: { id: number }[] = []
for (let i = 0; i < 24; i++) posts.push(await bare.post.create({ data: { title: `post ${i}`, authorId: users[(i * 7) % 24].id } }))
// Follows whose follower has a higher id than the followee, and lower.
const follows: { followerId: number; followeeId: number }[] = []
for (let i = 0; i < 24; i++) {
  const key = { followerId: users[i].id, followeeId: users[(i * 5 + 3) % 24].id }
  await bare.follow.create({ data: key })
  follows.push(key)
}
const opened: { $disconnect(): Promise<void> }[] = [bare]
afterAll(async () => {
  for (const client of opened) await client.$disconnect()
  await db.drop()
})

const postArgs = (id: number) => ({ where: { id }, select: { id: true, title: true, authorId: true } })
const authorArgs = (id: number) => ({ where: { id }, select: { id: true, name: true, karma: true } })
const followArgs = (f: { followerId: number; followeeId: number }) => ({ where: { followerId_followeeId: f } })
const pairArgs = (ids: number[], orderBy: object | false = { id: 'asc' }) => ({ where: { id: { in: ids } }, select: { email: true, id: true }, ...(orderBy === false ? {} : { orderBy }) })

type Page = (prisma: TestClient, i: number) => Promise<unknown>
/** A post, then its author. */
const postPage: Page = async (prisma, i) => {
  const post = (await prisma.post.findUnique(postArgs(posts[i].id)))!
  return prisma.user.findUnique(authorArgs(post.authorId))
}
/** A follow, then its two users in one list. */
const followPage =
  (orderBy?: object | false): Page =>
  async (prisma, i) => {
    const follow = (await prisma.follow.findUnique(followArgs(follows[i])))!
    return prisma.user.findMany(pairArgs([follow.followerId, follow.followeeId], orderBy))
  }

/**
 * An extended client recording SQL statements at its adapter, trained on `pages` pages of `page`,
 * with `beneath` applied after prefetch() (its query hooks run beneath the extension's).
 */
async function client(Client: Constructor, page: Page, options: PrefetchOptions = {}, pages = 10, beneath?: object) {
  const counting = recordingAdapter(db.adapterFactory())
  const base = new Client({ adapter: counting.factory })
  const errors: unknown[] = []
  const extended = base.$extends(prefetch({ cpu: false, onError: (error) => errors.push(error), ...options }))
  const prisma = (beneath === undefined ? extended : (extended as unknown as { $extends(e: object): unknown }).$extends(beneath)) as unknown as TestClient & {
    $prefetch: { session<T>(id: string, fn: () => Promise<T>): Promise<T>; idle(): Promise<void>; stats(): { byStrategy: Record<string, { issued: number; used: number }> } }
  }
  opened.push(prisma)
  for (let i = 0; i < pages; i++) await prisma.$prefetch.session(`train-${i}-${Math.random()}`, () => page(prisma, i))
  await prisma.$prefetch.idle()
  const since = () => {
    const start = counting.stats.queries
    return () => counting.stats.queries - start
  }
  return { prisma, statements: counting.statements, errors, since }
}

describe.runIf(joins)('combining to-one followers on PostgreSQL with relationJoins', () => {
  it("sends a post read with its author's read as one statement, and serves the author's read from it", async () => {
    const { prisma, statements, since, errors } = await client(JoinsClient, postPage)
    const i = 20
    const sql = since()
    await prisma.$prefetch.session('visit', async () => {
      const post = await prisma.post.findUnique(postArgs(posts[i].id))
      expect(sql()).toBe(1)
      expect(post).toStrictEqual(await bare.post.findUnique(postArgs(posts[i].id)))
      expect(Object.keys(post!)).toEqual(['id', 'title', 'authorId'])
      const author = await prisma.user.findUnique(authorArgs(post!.authorId))
      expect(sql()).toBe(1)
      expect(author).toStrictEqual(await bare.user.findUnique(authorArgs(post!.authorId)))
    })
    const last = combined(statements).at(-1)
    expect(tablesOf(last)).toEqual(['Post', 'User'])
    // The author's own select, as JSON of the joined row.
    expect(last).toContain(`JSONB_BUILD_OBJECT('id', "t1"."id", 'name', "t1"."name", 'karma', "t1"."karma"::text) AS "__prisma_data__"`)
    expect(prisma.$prefetch.stats().byStrategy.combine.used).toBeGreaterThan(0)
    expect(errors).toEqual([])
  })

  it("a write to the author after the combined read is seen by the author's read", async () => {
    const { prisma, since } = await client(JoinsClient, postPage)
    const i = 21
    await prisma.$prefetch.session('visit', async () => {
      const post = (await prisma.post.findUnique(postArgs(posts[i].id)))!
      await prisma.user.update({ where: { id: post.authorId }, data: { name: 'renamed' } })
      const sql = since()
      const author = await prisma.user.findUnique(authorArgs(post.authorId))
      expect(sql()).toBe(1)
      expect(author!.name).toBe('renamed')
      expect(author).toStrictEqual(await bare.user.findUnique(authorArgs(post.authorId)))
    })
  })

  it('a null foreign key: the caller gets its row, nothing is kept for the follower', async () => {
    // A user, then the user's mentor (a to-one self-relation); one user in four has none.
    const userArgs = (id: number) => ({ where: { id }, select: { id: true, mentorId: true } })
    const mentorPage: Page = async (prisma, i) => {
      const user = (await prisma.user.findUnique(userArgs(users[i + 1].id)))!
      return user.mentorId === null ? null : prisma.user.findUnique({ where: { id: user.mentorId }, select: { name: true } })
    }
    const { prisma, statements, since, errors } = await client(JoinsClient, mentorPage, {}, 14)
    const sql = since()
    // users[19]: no mentor. Combined all the same (the follower is predicted before the row is known).
    const user = await prisma.$prefetch.session('visit', () => prisma.user.findUnique(userArgs(users[19].id)))
    expect(user).toStrictEqual({ id: users[19].id, mentorId: null })
    expect(tablesOf(combined(statements).at(-1))).toEqual(['User', 'User'])
    expect(combined(statements).at(-1)).toContain(`JSONB_BUILD_OBJECT('name', "t1"."name")`)
    // users[21]: its mentor is users[20], read with the user in one statement.
    const mentor = await prisma.$prefetch.session('visit2', async () => {
      const row = (await prisma.user.findUnique(userArgs(users[21].id)))!
      return prisma.user.findUnique({ where: { id: row.mentorId! }, select: { name: true } })
    })
    expect(mentor).toStrictEqual({ name: 'user 20' })
    expect(sql()).toBe(2)
    expect(errors).toEqual([])
  })

  it("sends a follow read with its users' in list as one statement: the list is the distinct related rows in key order", async () => {
    const { prisma, statements, since, errors } = await client(JoinsClient, followPage())
    for (const i of [14, 15, 16, 17, 18]) {
      const sql = since()
      const list = await prisma.$prefetch.session(`visit-${i}`, async () => {
        const follow = (await prisma.follow.findUnique(followArgs(follows[i])))!
        expect(follow).toStrictEqual(await bare.follow.findUnique(followArgs(follows[i])))
        return prisma.user.findMany(pairArgs([follow.followerId, follow.followeeId]))
      })
      expect(sql()).toBe(1)
      expect(list).toStrictEqual(await bare.user.findMany(pairArgs([follows[i].followerId, follows[i].followeeId])))
    }
    // Both users, each by its own to-one relation, with the list's select.
    expect(tablesOf(combined(statements).at(-1))).toEqual(['Follow', 'User', 'User'])
    expect(combined(statements).at(-1)).toMatch(/JSONB_BUILD_OBJECT\('email', "t1"\."email", 'id', "t1"\."id"\)[^]*JSONB_BUILD_OBJECT\('email', "t2"\."email", 'id', "t2"\."id"\)/)
    expect(errors).toEqual([])
  })

  it('orders the list as its orderBy says (descending)', async () => {
    const { prisma, since } = await client(JoinsClient, followPage({ id: 'desc' }))
    for (const i of [19, 20]) {
      const sql = since()
      const list = await prisma.$prefetch.session(`visit-${i}`, async () => {
        const follow = (await prisma.follow.findUnique(followArgs(follows[i])))!
        return prisma.user.findMany(pairArgs([follow.followerId, follow.followeeId], { id: 'desc' }))
      })
      expect(sql()).toBe(1)
      expect(list).toStrictEqual(await bare.user.findMany(pairArgs([follows[i].followerId, follows[i].followeeId], { id: 'desc' })))
    }
  })

  it('a write to one of the related rows ends the kept list', async () => {
    const { prisma, since } = await client(JoinsClient, followPage())
    const i = 22
    await prisma.$prefetch.session('visit', async () => {
      const follow = (await prisma.follow.findUnique(followArgs(follows[i])))!
      await prisma.user.update({ where: { id: follow.followeeId }, data: { email: 'moved@example.com' } })
      const sql = since()
      const list = await prisma.user.findMany(pairArgs([follow.followerId, follow.followeeId]))
      expect(sql()).toBe(1)
      expect(list).toStrictEqual(await bare.user.findMany(pairArgs([follow.followerId, follow.followeeId])))
      expect(list.map((user: { email: string }) => user.email)).toContain('moved@example.com')
    })
  })

  it('does not combine an in list without orderBy (its order is the plan’s), nor inside a transaction, nor with learn.combine: false', async () => {
    const unordered = await client(JoinsClient, followPage(false))
    await unordered.prisma.$prefetch.session('visit', () => unordered.prisma.follow.findUnique(followArgs(follows[14])))
    expect(combined(unordered.statements)).toEqual([])

    const { prisma, statements } = await client(JoinsClient, postPage)
    const before = combined(statements).length
    await prisma.$prefetch.session('tx', () => prisma.$transaction(async (tx) => tx.post.findUnique(postArgs(posts[22].id))))
    expect(combined(statements).length).toBe(before)
    await prisma.$prefetch.session('after', () => prisma.post.findUnique(postArgs(posts[22].id)))
    expect(combined(statements).length).toBe(before + 1)

    const off = await client(JoinsClient, postPage, { learn: { combine: false } })
    await off.prisma.$prefetch.session('visit', () => off.prisma.post.findUnique(postArgs(posts[23].id)))
    expect(combined(off.statements)).toEqual([])
  })

  // A query hook beneath this extension sees a combined read as one read of its parent's model:
  // one that changes each returned row (here "!" appended to its strings) would not reach the
  // relation's rows, so the follower kept from them would not be what it returns sent alone.
  // Nothing with a hook beneath for the parent's or the follower's operation is combined.
  it('a result-changing query hook beneath: nothing is combined, the follower served is what the hook makes of it alone', async () => {
    const exclaim = {
      query: {
        $allModels: {
          async $allOperations({ args, query }: { args: object; query: (a: object) => Promise<unknown> }) {
            const row = (await query(args)) as Record<string, unknown> | null
            return row === null || typeof row !== 'object' || Array.isArray(row) ? row : Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' ? `${v}!` : v]))
          },
        },
      },
    }
    const { prisma, statements, errors } = await client(JoinsClient, postPage, {}, 10, exclaim)
    const reference = (bare as unknown as { $extends(e: object): TestClient }).$extends(exclaim)
    const i = 23
    const author = await prisma.$prefetch.session('visit', () => postPage(prisma, i))
    expect(author).toStrictEqual(await postPage(reference, i))
    expect(combined(statements)).toEqual([])
    expect(errors).toEqual([])
  })

  it("an arguments-changing hook beneath for the follower's model only: nothing is combined, the follower served is the hooked client's", async () => {
    // Soft-delete style, on User.findUnique alone: the post read does not go through it, the
    // author's read does, and here it names no row (karma is 0..23).
    const hidden = {
      query: {
        user: {
          findUnique({ args, query }: { args: { where: object }; query: (a: object) => Promise<unknown> }) {
            return query({ ...args, where: { ...args.where, karma: { gte: 1000 } } })
          },
        },
      },
    }
    const { prisma, statements, errors } = await client(JoinsClient, postPage, {}, 10, hidden)
    const reference = (bare as unknown as { $extends(e: object): TestClient }).$extends(hidden)
    const i = 22
    const author = await prisma.$prefetch.session('visit', () => postPage(prisma, i))
    expect(author).toBeNull()
    expect(author).toStrictEqual(await postPage(reference, i))
    expect(combined(statements)).toEqual([])
    expect(errors).toEqual([])
  })

  it('a query hook beneath for another model only: reads are combined all the same', async () => {
    const tags = { query: { tag: { async $allOperations({ args, query }: { args: object; query: (a: object) => Promise<unknown> }) { return query(args) } } } }
    const { prisma, statements, since, errors } = await client(JoinsClient, postPage, {}, 10, tags)
    const i = 19
    const before = combined(statements).length
    const sql = since()
    const author = await prisma.$prefetch.session('visit', () => postPage(prisma, i))
    expect(sql()).toBe(1)
    expect(combined(statements).length).toBe(before + 1)
    expect(tablesOf(combined(statements).at(-1))).toEqual(['Post', 'User'])
    expect(author).toStrictEqual(await postPage(bare, i))
    expect(errors).toEqual([])
  })
})
