/**
 * One application process of test/integration/processes.test.ts that learns or uses what was
 * learned: MODE=train runs user pages (a user by email, then their posts) in sessions and closes
 * (which writes what it learned to Redis); MODE=use starts afresh on the same Redis, runs one
 * page, and prints whether its posts read was served by a prefetch, with the database queries.
 */
import { childClient } from './child-client.ts'

const { EMAILS, MODE } = process.env as Record<string, string>
const emails = JSON.parse(EMAILS) as string[]
const { prisma, close } = await childClient({ storeTimeout: 5000 })
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
await close()
