import { afterAll, describe, expect, it } from 'vitest'
import { redisClusterStores, redisStores } from '../support/stores.ts'
import { describeWith, redis, redisCluster } from '../support/services.ts'
import { setup } from '../support/setup.ts'
import { clock, violations, type History } from '../support/history.ts'

/**
 * Consistency under concurrent load: workers in sessions browse users, their posts and a post
 * (a pattern the learner picks up, so speculative reads run among the demand reads) while other
 * steps increment the same counters. Every operation is recorded and the history checked: no read
 * may return a counter older than a write that completed before the read began. At least 10,000
 * operations per run (RELIABILITY_LONG=1: 100,000), through one client and through several
 * clients sharing one Redis store (and one Redis Cluster, where one is up: see docs/redis-cluster.md).
 */
const OPERATIONS = process.env.RELIABILITY_LONG ? 100_000 : 10_000
const WORKERS = 8
const TIMEOUT = OPERATIONS * 20

const env = await setup()
const shared = [
  { service: await redis(), stores: redisStores() },
  { service: await redisCluster(), stores: redisClusterStores() },
]
const users: number[] = []
const posts: number[] = []
for (let u = 0; u < 6; u++) {
  const user = await env.bare.user.create({ data: { email: `c${u}@example.com`, karma: 0n } })
  users.push(user.id)
  for (let p = 0; p < 4; p++) posts.push((await env.bare.post.create({ data: { title: `c${u}-${p}`, authorId: user.id, views: 0n } })).id)
}

type Client = Awaited<ReturnType<typeof env.client>>['prisma']

async function run(clients: Client[]): Promise<History & { operations: number }> {
  const history: History = { writes: [], reads: [] }
  let left = OPERATIONS
  let seed = 20261124
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]

  async function read<T>(fn: () => Promise<T>, registers: (result: T) => Array<[string, bigint]>): Promise<T> {
    const start = clock()
    const result = await fn()
    for (const [register, value] of registers(result)) history.reads.push({ register, value, start })
    return result
  }

  async function worker(w: number) {
    let session = 0
    while (left > 0) {
      // A new session every 30 steps or so: many sessions, each long enough to be predicted.
      if (random() < 0.03) session++
      const db = clients[Math.floor(random() * clients.length)].$prefetch.forSession<Client>(`w${w}-s${session}`)
      const roll = random()
      left--
      if (roll < 0.1) {
        const id = pick(users)
        const user = await db.user.update({ where: { id }, data: { karma: { increment: 1 } }, select: { karma: true } })
        history.writes.push({ register: `User:${id}`, value: user.karma, end: clock() })
      } else if (roll < 0.2) {
        const id = pick(posts)
        const post = await db.post.update({ where: { id }, data: { views: { increment: 1 } }, select: { views: true } })
        history.writes.push({ register: `Post:${id}`, value: post.views, end: clock() })
      } else if (roll < 0.3) {
        await read(
          () => db.user.findMany({ select: { id: true, karma: true, posts: { select: { id: true, views: true } } }, orderBy: { id: 'asc' } }),
          (list) => list.flatMap((u) => [[`User:${u.id}`, u.karma] as [string, bigint], ...u.posts.map((p) => [`Post:${p.id}`, p.views] as [string, bigint])]),
        )
      } else {
        // A page: a user, their posts, one post. Three operations.
        left -= 2
        const id = pick(users)
        const user = await read(
          () => db.user.findUnique({ where: { id }, select: { id: true, karma: true } }),
          (u) => (u ? [[`User:${u.id}`, u.karma]] : []),
        )
        const list = await read(
          () => db.post.findMany({ where: { authorId: user!.id }, select: { id: true, views: true }, orderBy: { id: 'asc' } }),
          (rows) => rows.map((p) => [`Post:${p.id}`, p.views] as [string, bigint]),
        )
        const postId = list[Math.floor(random() * 2)].id
        await read(
          () => db.post.findUnique({ where: { id: postId }, select: { id: true, views: true } }),
          (p) => (p ? [[`Post:${p.id}`, p.views]] : []),
        )
      }
    }
  }
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)))
  for (const client of clients) await client.$prefetch.idle()
  return { ...history, operations: OPERATIONS - left }
}

function total(clients: Client[], pick: (s: ReturnType<Client['$prefetch']['stats']>) => number): number {
  return clients.reduce((sum, client) => sum + pick(client.$prefetch.stats()), 0)
}

describe(`${OPERATIONS} concurrent operations on shared rows`, () => {
  it('through one client: no stale read', { timeout: TIMEOUT }, async () => {
    const { prisma } = await env.client()
    const history = await run([prisma])
    expect(history.operations).toBeGreaterThanOrEqual(OPERATIONS)
    expect(history.writes.length).toBeGreaterThan(OPERATIONS / 20)
    // The cache and the speculative reads were really in play.
    expect(total([prisma], (s) => s.hits)).toBeGreaterThan(OPERATIONS / 20)
    expect(total([prisma], (s) => s.prefetchHits)).toBeGreaterThan(0)
    expect(violations(history)).toEqual([])
  })

  const opened: Array<{ close(): Promise<void> }> = []
  afterAll(async () => {
    for (const store of opened) await store.close()
  })
  for (const { service, stores } of shared) describeWith(service, stores.name, () => {
    const sharing = async (count: number, options: object) => {
      const clients: Client[] = []
      for (let i = 0; i < count; i++) {
        const made = await stores.make()
        opened.push(made)
        clients.push((await env.client({ cache: made.store, ...options })).prisma)
      }
      return clients
    }

    it(`through three clients sharing ${stores.name} (strict): no stale read`, { timeout: TIMEOUT }, async () => {
      const clients = await sharing(3, {})
      const history = await run(clients)
      expect(history.operations).toBeGreaterThanOrEqual(OPERATIONS)
      expect(total(clients, (s) => s.hits)).toBeGreaterThan(OPERATIONS / 20)
      expect(total(clients, (s) => s.prefetchHits)).toBeGreaterThan(0)
      expect(violations(history)).toEqual([])
    })

    it(`through three clients sharing ${stores.name} with maxStalenessMs 50: no read older than 50 ms`, { timeout: TIMEOUT }, async () => {
      const clients = await sharing(3, { consistency: { maxStalenessMs: 50 } })
      const history = await run(clients)
      expect(history.operations).toBeGreaterThanOrEqual(OPERATIONS)
      expect(total(clients, (s) => s.hits)).toBeGreaterThan(OPERATIONS / 20)
      expect(violations(history, 50)).toEqual([])
    })
  })

  it('the checker finds a stale read when there is one', () => {
    const writes = [
      { register: 'a', value: 5n, end: 10 },
      { register: 'a', value: 3n, end: 12 },
    ]
    expect(violations({ writes, reads: [{ register: 'a', value: 4n, start: 13 }] })).toHaveLength(1)
    expect(violations({ writes, reads: [{ register: 'a', value: 4n, start: 9 }] })).toHaveLength(0)
    expect(violations({ writes, reads: [{ register: 'b', value: 0n, start: 13 }] })).toHaveLength(0)
    expect(violations({ writes, reads: [{ register: 'a', value: 4n, start: 13 }] }, 5)).toHaveLength(0)
  })
})
