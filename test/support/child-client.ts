/**
 * The client of a test's child process: its own Prisma client on the test database (`DATABASE`,
 * a SQLite file URL or a PostgreSQL URL) with prisma-prefetch on the shared Redis (`REDIS`),
 * under the test's `NAMESPACE`.
 */
import KeyvRedis from '@keyv/redis'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import Keyv from 'keyv'
import { prefetch, type PrefetchOptions } from '../../src/index.ts'
import { createTestClient } from '../helpers/db.ts'

export async function childClient(options: PrefetchOptions = {}) {
  const { DATABASE, REDIS, NAMESPACE } = process.env as Record<string, string>
  const postgres = DATABASE.startsWith('postgres')
  const redis = new KeyvRedis(REDIS)
  const cache = new Keyv({ store: redis, namespace: NAMESPACE, useKeyPrefix: false })
  const base = await createTestClient({
    provider: postgres ? 'postgresql' : 'sqlite',
    adapterFactory: () => (postgres ? new PrismaPg({ connectionString: DATABASE }) : new PrismaBetterSqlite3({ url: DATABASE, timeout: 20_000 })) as never,
  })
  const prisma = base.$extends(prefetch({ cache, namespace: NAMESPACE, cpu: false, ...options }))
  async function close() {
    await prisma.$prefetch.close()
    await prisma.$disconnect()
    await redis.disconnect()
  }
  return { prisma, close }
}
