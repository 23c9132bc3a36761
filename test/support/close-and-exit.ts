/**
 * Run as a child process by test/integration/scheduler.test.ts: uses every part of the extension
 * that could hold a timer or a handle (sessions, learning, rules, speculative reads, a write inside
 * an interactive transaction, warm), then closes it and disconnects. The process must then exit by
 * itself: nothing here calls process.exit.
 */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import { prefetch, rule } from '../../src/index.ts'
import { createTestClient } from '../helpers/db.ts'

const url = process.env.TEST_DATABASE_FILE!
const postgres = url.startsWith('postgres')
const base = await createTestClient({
  provider: postgres ? 'postgresql' : 'sqlite',
  adapterFactory: () => (postgres ? new PrismaPg({ connectionString: url }) : new PrismaBetterSqlite3({ url })) as never,
})
const prisma = base.$extends(
  prefetch({ rules: [rule('User.findFirst').then('Post.findMany', ({ result }) => (result ? { where: { authorId: result.id } } : null))] }),
)
for (let i = 0; i < 6; i++) {
  await prisma.$prefetch.session(`s${i}`, async () => {
    const user = await prisma.user.findFirst({ orderBy: { id: 'asc' } })
    await prisma.post.findMany({ where: { authorId: user!.id }, take: 2 })
  })
}
await prisma.$transaction(async (tx) => {
  await tx.tag.update({ where: { name: 'orm' }, data: { name: 'orm' } })
})
void prisma.$prefetch.warm({ model: 'Tag', operation: 'findMany' })
void prisma.user.findFirst()
await prisma.$prefetch.close()
await prisma.$disconnect()
console.log('closed')
