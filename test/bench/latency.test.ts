import { describe, expect, it } from 'vitest'
import { withLatency } from '../../bench/latency.ts'
import { createTestClient, createTestDatabase } from '../helpers/db.ts'

describe('withLatency', () => {
  it('delays and counts every database round trip', async () => {
    const db = await createTestDatabase()
    const slow = withLatency(db.adapterFactory(), 20)
    const prisma = await createTestClient({ ...db, adapterFactory: () => slow.factory })
    try {
      await prisma.tag.count() // connect first, so only the queries below are timed
      const queriesBefore = slow.trips.queries
      const start = performance.now()
      await prisma.tag.count()
      await prisma.tag.findMany()
      const elapsed = performance.now() - start
      expect(slow.trips.queries - queriesBefore).toBe(2)
      expect(elapsed).toBeGreaterThanOrEqual(2 * 20 - 2)
      await prisma.$transaction(async (tx) => tx.tag.count())
      expect(slow.trips.transactions).toBe(1)
    } finally {
      await prisma.$disconnect()
      await db.drop()
    }
  })
})
