import { afterEach, describe, expect, it } from 'vitest'
import { formatTemplateWaits, perPage, shapeOf, TemplateWaits, templateOf } from '../../bench/diagnostic.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { gatedClient, until } from '../support/gated.ts'

let db: TestDatabase | undefined
afterEach(async () => {
  await db?.drop()
  db = undefined
})

describe("the benchmark's waits by query template", () => {
  it('names a query by its shape: keys kept, values and list lengths erased', () => {
    expect(templateOf('user', 'findMany', { where: { id: { in: [1, 2, 3] }, name: 'a' }, take: 5 })).toBe('user.findMany {where:{id:{in:[?]},name:?},take:?}')
    expect(shapeOf({ where: { id: { in: [9] } } })).toBe(shapeOf({ where: { id: { in: [1, 2] } } }))
    expect(templateOf('tag', 'count', undefined)).toBe('tag.count {}')
  })

  it('counts a miss and a late hit as waits, a hit served from the cache not, as the totals do', async () => {
    db = await createTestDatabase()
    const waits = new TemplateWaits()
    const { prisma, base, trips, hold, release, gate } = await gatedClient(db, 'User', { learn: false, telemetry: { meter: waits.meter() } })
    try {
      await prisma.user.create({ data: { email: 'a@example.com' } })
      waits.waited('user.create')
      const byEmail = { where: { email: 'a@example.com' } }
      const read = () => waits.read(templateOf('user', 'findUnique', byEmail), () => prisma.user.findUnique(byEmail))
      const before = trips.queries
      await read() // a miss
      await read() // served from the cache
      expect(trips.queries - before).toBe(1)
      // A read that joins a speculative read still held at the database waited.
      const byId = { where: { id: { gt: 0 } } }
      hold()
      const warming = prisma.$prefetch.warm({ model: 'User', operation: 'findMany', args: byId })
      await until(() => gate.reached)
      const joined = waits.read(templateOf('user', 'findMany', byId), () => prisma.user.findMany(byId))
      await new Promise((resolve) => setTimeout(resolve, 5))
      release()
      await Promise.all([joined, warming])
      const stats = prisma.$prefetch.stats()
      expect(stats.lateHits).toBe(1)
      expect(Object.fromEntries(waits.waits)).toEqual({
        'user.create': 1,
        'user.findUnique {where:{email:?}}': 1,
        'user.findMany {where:{id:{gt:?}}}': 1,
      })
      // The same count as the benchmark's total: operations less reads served without waiting.
      const total = [...waits.waits.values()].reduce((a, b) => a + b, 0)
      expect(total).toBe(stats.reads + stats.writes - (stats.hits - stats.lateHits))
      expect(perPage(waits.waits, 2)['user.create']).toBe(0.5)
      expect(formatTemplateWaits('blog', { prefetch: perPage(waits.waits, 1) })).toContain('1.00\tuser.findMany {where:{id:{gt:?}}}')
    } finally {
      await base.$disconnect()
    }
  })
})
