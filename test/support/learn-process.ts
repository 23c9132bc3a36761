/**
 * One application process of test/integration/processes.test.ts that learns or uses what was
 * learned: MODE=train runs user pages (a user by email, then their posts) in sessions and closes
 * (which writes what it learned to Redis); MODE=use starts afresh on the same Redis, runs one
 * page, and prints whether its posts read was served by a prefetch, with the database queries.
 */
import KeyvRedis from '@keyv/redis'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import Keyv from 'keyv'
import { prefetch } from '../../src/index.ts'
import { createTestClient } from '../helpers/db.ts'

const { DATABASE, REDIS, NAMESPACE, EMAILS, MODE } = process.env as Record<string, string>
const emails = JSON.parse(EMAILS) as string[]
const postgres = DATABASE.startsWith('postgres')
const redis = new KeyvRedis(REDIS)
const cache = new Keyv({ store: redis, namespace: NAMESPACE, useKeyPrefix: false })
const base = await createTestClient({
  provider: postgres ? 'postgresql' : 'sqlite',
  adapterFactory: () => (postgres ? new PrismaPg({ connectionString: DATABASE }) : new PrismaBetterSqlite3({ url: DATABASE, timeout: 20_000 })) as never,
})
const prisma = base.$extends(prefetch({ cache, namespace: NAMESPACE, storeTimeout: 5000 }))
const page = (session: string, email: string) =>
  prisma.$prefetch.session(session, async () => {
    const user = await prisma.user.findUnique({ where: { email } })
    await prisma.$prefetch.idle()
    return prisma.post.findMany({ where: { authorId: user!.id }, orderBy: { id: 'asc' } })
  })

if (MODE === 'train') {
  for (let i = 0; i < 8; i++) await page(`train-${i}`, emails[i % emails.length])
} else {
  await prisma.$prefetch.idle() // what the other processes learned is read
  await prisma.$prefetch.invalidate() // nothing cached: a hit below is prediction at work
  await page('first', emails[emails.length - 1])
  const stats = prisma.$prefetch.stats()
  process.stdout.write(JSON.stringify({ prefetchHits: stats.prefetchHits, transitions: prisma.$prefetch.model().transitions.length }))
}
await prisma.$prefetch.close()
await prisma.$disconnect()
await redis.disconnect()
