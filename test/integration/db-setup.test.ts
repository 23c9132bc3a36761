// The integration test infrastructure itself: a fresh database with the schema pushed by
// Prisma's WebAssembly schema engine (scripts/schema-engine.ts), both generated clients, every
// scalar type of the test schema surviving a round trip, and the two probes (the spy extension
// and the counting adapter) counting what they should. Runs on SQLite by default and on
// PostgreSQL with DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test.

import { existsSync, readFileSync } from 'node:fs'
import { Decimal } from '@prisma/client-runtime-utils'
import { Prisma } from '@prisma/client/extension'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pushSchema } from '../../scripts/schema-engine.ts'
import {
  countingAdapter,
  createTestClient,
  createTestDatabase,
  provider,
  spyExtension,
  type TestClient,
  type TestDatabase,
} from '../helpers/db.ts'

let db: TestDatabase
let base: TestClient
let counting: ReturnType<typeof countingAdapter>
let spy: ReturnType<typeof spyExtension>
const withSpy = (base: TestClient, spy: ReturnType<typeof spyExtension>) => base.$extends(spy.extension)
let client: ReturnType<typeof withSpy>

beforeAll(async () => {
  db = await createTestDatabase()
  counting = countingAdapter(db.adapterFactory())
  spy = spyExtension()
  base = await createTestClient({ ...db, adapterFactory: () => counting.factory })
  client = withSpy(base, spy)
})

afterAll(async () => {
  await base?.$disconnect()
  await db?.drop()
})

/** How many connections the PostgreSQL database at `url` has. */
async function pgConnectionsTo(url: string): Promise<number> {
  const name = new URL(url).pathname.slice(1)
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await admin.connect()
  try {
    const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [name])
    return Number(rows[0]!.n)
  } finally {
    await admin.end()
  }
}

describe(`test database (${provider})`, () => {
  it('is created for the provider DATABASE_URL selects', () => {
    expect(db.provider).toBe(provider)
    if (provider === 'sqlite') {
      expect(db.url).toMatch(/^file:/)
      expect(existsSync(db.url.slice('file:'.length))).toBe(true)
    } else {
      expect(db.url).toMatch(/^postgres(ql)?:\/\/.*\/prisma_prefetch_test_/)
    }
  })

  it('round-trips every scalar type', async () => {
    const avatar = new Uint8Array([0, 1, 2, 127, 128, 254, 255])
    const settings = { theme: 'dark', nested: { list: [1, 'two', null, { deep: true }] }, ratio: 0.5 }
    const createdAt = new Date('2020-02-29T12:34:56.789Z')
    const user = await client.user.create({
      data: {
        email: 'types@example.com',
        name: null,
        role: 'EDITOR',
        active: false,
        karma: 9_007_199_254_740_993n, // 2^53 + 1: not representable as a JS number
        balance: new Decimal('12345678901234.123456789'),
        rating: -4.75,
        avatar,
        settings,
        createdAt,
      },
    })
    const read = await client.user.findUniqueOrThrow({ where: { id: user.id } })

    expect(typeof read.id).toBe('number')
    expect(read.name).toBeNull()
    expect(read.role).toBe('EDITOR')
    expect(read.active).toBe(false)
    expect(typeof read.karma).toBe('bigint')
    expect(read.karma).toBe(9_007_199_254_740_993n)
    expect(Decimal.isDecimal(read.balance)).toBe(true)
    // SQLite has no decimal type: Prisma's DECIMAL column has numeric affinity and stores a
    // REAL, so only ~16 significant digits survive there. PostgreSQL's numeric keeps them all.
    expect(read.balance.toString()).toBe(provider === 'postgresql' ? '12345678901234.123456789' : '12345678901234.123')
    expect(read.rating).toBe(-4.75)
    expect(read.avatar).toBeInstanceOf(Uint8Array)
    expect([...read.avatar!]).toEqual([...avatar])
    expect(read.settings).toEqual(settings)
    expect(read.createdAt).toBeInstanceOf(Date)
    expect(read.createdAt.toISOString()).toBe(createdAt.toISOString())
    expect(read).toStrictEqual(user)
  })

  it('round-trips a post with m:n tags and optional fields', async () => {
    const author = await client.user.create({ data: { email: 'author@example.com' } })
    // Defaults of the schema.
    expect(author.karma).toBe(0n)
    expect(author.balance.toString()).toBe('0')
    expect(author.active).toBe(true)
    expect(author.avatar).toBeNull()
    expect(author.settings).toBeNull()

    const post = await client.post.create({
      data: {
        title: 'Tagged',
        views: -42n,
        price: new Decimal('19.99'),
        score: null,
        meta: [1, 'two', { three: 3 }],
        cover: new Uint8Array([9, 8, 7]),
        author: { connect: { id: author.id } },
        tags: { create: [{ name: 'orm' }, { name: 'cache' }] },
      },
      include: { tags: { orderBy: { name: 'asc' } }, author: true },
    })
    expect(post.tags.map((tag) => tag.name)).toEqual(['cache', 'orm'])
    expect(post.author.email).toBe('author@example.com')
    expect(post.views).toBe(-42n)
    expect(post.price!.toString()).toBe('19.99')
    expect(post.score).toBeNull()
    expect(post.body).toBeNull()
    expect(post.meta).toEqual([1, 'two', { three: 3 }])
    expect(post.updatedAt).toBeInstanceOf(Date)

    const tag = await client.tag.findUniqueOrThrow({ where: { name: 'orm' }, include: { posts: true } })
    expect(tag.posts.map((p) => p.id)).toEqual([post.id])
  })

  it('records every operation reaching the spy, raw ones included', async () => {
    const before = spy.calls.length
    const user = await client.user.findUnique({ where: { email: 'types@example.com' } })
    await client.post.count()
    const raw = await client.$queryRaw`SELECT 1 AS one`
    expect(raw).toHaveLength(1)
    expect(user).not.toBeNull()

    expect(spy.calls.slice(before)).toEqual([
      { model: 'User', operation: 'findUnique', args: { where: { email: 'types@example.com' } } },
      { model: 'Post', operation: 'count', args: {} },
      { model: undefined, operation: '$queryRaw', args: expect.anything() },
    ])
    // The client below the spy is not recorded.
    await base.tag.findMany()
    expect(spy.calls.length).toBe(before + 3)
  })

  it('runs query hooks first-applied-outermost: a spy applied last sees what an extension lets through', async () => {
    const order: string[] = []
    const hook = (name: string) =>
      Prisma.defineExtension({
        name,
        query: {
          $allOperations({ args, query }) {
            order.push(name)
            return query(args)
          },
        },
      })
    await base.$extends(hook('applied first')).$extends(hook('applied second')).user.count()
    expect(order).toEqual(['applied first', 'applied second'])

    // A stand-in for a caching extension: serves count itself, and answers findFirst with a
    // query of its own through the client it was built on.
    const caching = Prisma.defineExtension((inner) =>
      inner.$extends({
        query: {
          $allOperations({ operation, args, query }) {
            if (operation === 'count') return Promise.resolve(-1) as never
            if (operation === 'findFirst') return (inner as unknown as TestClient).tag.findMany({ take: 1 }) as never
            return query(args)
          },
        },
      }),
    )
    const lastSpy = spyExtension()
    const stacked = base.$extends(caching).$extends(lastSpy.extension)
    const sqlBefore = counting.stats.queries
    expect(await stacked.user.count()).toBe(-1)
    expect(counting.stats.queries).toBe(sqlBefore)
    await stacked.user.findFirst()
    await stacked.user.findMany({ take: 1 })
    // Only findMany was passed on. count and findFirst were answered by the extension, and its
    // own Tag query bypasses the spy: only the adapter counts it.
    expect(lastSpy.calls.map((call) => `${call.model}.${call.operation}`)).toEqual(['User.findMany'])
    expect(counting.stats.queries - sqlBefore).toBe(2)
  })

  it('counts SQL round trips, including Prisma batching same-tick findUnique calls into one', async () => {
    const ids = (await base.user.findMany({ select: { id: true } })).map((user) => user.id)
    expect(ids.length).toBeGreaterThanOrEqual(2)

    let before = counting.stats.queries
    await client.user.findUnique({ where: { id: ids[0] } })
    expect(counting.stats.queries - before).toBe(1)

    before = counting.stats.queries
    const found = await Promise.all(ids.map((id) => client.user.findUnique({ where: { id } })))
    expect(found.map((user) => user?.id)).toEqual(ids)
    expect(counting.stats.queries - before).toBe(1)

    // Queries inside an interactive transaction run on the transaction object: counted too,
    // and so is the COMMIT Prisma sends (BEGIN runs inside the driver's startTransaction).
    before = counting.stats.queries
    await client.$transaction(async (tx) => {
      await tx.user.findUnique({ where: { id: ids[0] } })
      await tx.post.count()
    })
    expect(counting.stats.queries - before).toBe(3)
  })

  it('pushes the schema idempotently and leaves no connection open', async () => {
    const schema = readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8')
    // Re-pushing reads the existing schema back from the database catalog: on PostgreSQL that
    // is the path that needs the "char" column workaround.
    const result = await pushSchema({ provider, url: db.url, schema })
    expect(result).toEqual({ executedSteps: 0, warnings: [] })
    if (provider === 'postgresql') {
      // Only the test client's own pool may remain connected.
      await base.$disconnect()
      expect(await pgConnectionsTo(db.url)).toBe(0)
    }
    // The data is still there, and writing works (a leaked SQLite handle would block it).
    expect(await client.user.count()).toBe(2)
    await client.tag.create({ data: { name: 'after-push' } })
  })

  it('drops a database', async () => {
    const other = await createTestDatabase()
    const otherClient = await createTestClient(other)
    await otherClient.tag.create({ data: { name: 'x' } })
    if (provider === 'postgresql') {
      // Left connected on purpose: drop() must terminate the connection itself.
      await other.drop()
      const admin = new pg.Client({ connectionString: process.env.DATABASE_URL })
      await admin.connect()
      const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [new URL(other.url).pathname.slice(1)])
      await admin.end()
      expect(rows).toHaveLength(0)
      await otherClient.$disconnect().catch(() => {})
    } else {
      await otherClient.$disconnect()
      await other.drop()
      expect(existsSync(other.url.replace(/^file:/, ''))).toBe(false)
    }
    await other.drop() // idempotent
  })
})
