import { afterAll, describe, expect, it } from 'vitest'
import { memoryStores, redisStores, type StoreUnderTest } from '../support/stores.ts'
import { describeWith, redis } from '../support/services.ts'
import { setup } from '../support/setup.ts'
import { violations, type Read, type Write } from '../support/history.ts'

/**
 * Concurrent readers and writers on the same rows; every operation is recorded with its start
 * and end, and the history is checked: no read may return a value older than a write that
 * completed before the read began. Writes increment a counter, so "older" is "smaller".
 */
const redisService = await redis()
const env = await setup()
const ROWS = 4
const ids: number[] = []
for (let i = 0; i < ROWS; i++) ids.push((await env.bare.user.create({ data: { email: `h${i}@example.com`, karma: 0n } })).id)

async function runHistory(clients: any[], operations: number) {
  const writes: Write[] = []
  const reads: Read[] = []
  let left = operations
  let seed = 12345
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  async function worker() {
    while (left-- > 0) {
      const client = clients[Math.floor(random() * clients.length)]
      const id = ids[Math.floor(random() * ROWS)]
      const roll = random()
      if (roll < 0.2) {
        const user = await client.user.update({ where: { id }, data: { karma: { increment: 1 } }, select: { karma: true } })
        writes.push({ register: `${id}`, value: user.karma, end: performance.now() })
      } else if (roll < 0.6) {
        const start = performance.now()
        const user = await client.user.findUnique({ where: { id }, select: { karma: true } })
        reads.push({ register: `${id}`, value: user.karma, start })
      } else {
        const start = performance.now()
        const users = await client.user.findMany({ where: { id: { in: ids } }, select: { id: true, karma: true }, orderBy: { id: 'asc' } })
        for (const user of users) reads.push({ register: `${user.id}`, value: user.karma, start })
      }
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return { writes, reads }
}

describe('a history of concurrent reads and writes', () => {
  it('through one client has no stale read', async () => {
    const history = await runHistory([env.prisma], 1500)
    expect(history.writes.length).toBeGreaterThan(100)
    expect(env.prisma.$prefetch.stats().hits).toBeGreaterThan(100) // the cache was really in play
    expect(violations(history)).toEqual([])
  })

  const twoClients = (stores: StoreUnderTest) =>
    it(`through two clients sharing ${stores.name} has no stale read`, async () => {
      const one = stores.make()
      const two = stores.make()
      afterAll(async () => {
        await one.close()
        await two.close()
      })
      const a = await env.client({ cache: one.store })
      const b = await env.client({ cache: two.store })
      const history = await runHistory([a.prisma, b.prisma], 1500)
      expect(a.prisma.$prefetch.stats().hits + b.prisma.$prefetch.stats().hits).toBeGreaterThan(50)
      expect(violations(history)).toEqual([])
    })
  twoClients(memoryStores())
  describeWith(redisService, 'Redis', () => twoClients(redisStores()))
})
