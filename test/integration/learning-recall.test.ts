/**
 * Recall against a real SQLite client: a session logs in, browses five reads and changes its
 * user (which outdates the cached login), then logs in again with the same credentials. The
 * credentials are further back than the history reaches; the session's recalled login has them,
 * so the second login is predicted and served from a speculative result.
 */
import { describe, expect, it } from 'vitest'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
await seed(env.bare)

const members: { id: number; email: string; name: string | null }[] = []
for (let i = 0; i < 8; i++) {
  members.push(await env.bare.user.create({ data: { email: `member${i}@example.com`, name: `Member ${i}` }, select: { id: true, email: true, name: true } }))
}

type Client = Awaited<ReturnType<typeof env.client>>['prisma']

const loginArgs = (member: { email: string; name: string | null }) => ({ where: { email: member.email, name: member.name }, select: { id: true } })

/** Five reads that hold neither the member's credentials nor their id, and a write to the member. */
async function browse(prisma: Client, id: number) {
  await prisma.tag.findMany({ orderBy: { id: 'asc' } })
  const posts = await prisma.post.findMany({ where: { published: true }, orderBy: { id: 'asc' }, take: 3, select: { id: true, title: true } })
  await prisma.post.findUnique({ where: { id: posts[1].id }, select: { id: true, title: true, body: true } })
  await prisma.user.update({ where: { id }, data: { rating: { increment: 1 } } })
  await prisma.comment.findMany({ where: { postId: posts[1].id }, orderBy: { id: 'asc' }, select: { id: true, text: true } })
  await prisma.tag.count()
}

describe('recall against a real database', () => {
  it('serves a second login, five reads after the first, from a speculative result (0 database queries)', async () => {
    const { prisma, spy, sql } = await env.client({})
    for (const member of members.slice(0, 7)) {
      await prisma.$prefetch.session(`train-${member.id}`, async () => {
        const user = await prisma.user.findFirst(loginArgs(member))
        await browse(prisma, user!.id)
        await prisma.user.findFirst(loginArgs(member))
        await prisma.$prefetch.idle()
      })
    }
    await prisma.$prefetch.idle()
    prisma.$prefetch.resetStats()

    const member = members[7]
    await prisma.$prefetch.session('member-visit', async () => {
      const user = await prisma.user.findFirst(loginArgs(member))
      await browse(prisma, user!.id)
      await prisma.$prefetch.idle()
      const calls = spy.calls.length
      const trips = sql.queries
      const before = prisma.$prefetch.stats().prefetchHits
      const again = await prisma.user.findFirst(loginArgs(member))
      expect(reached(spy.calls, calls)).toBe(0)
      expect(sql.queries - trips).toBe(0)
      expect(prisma.$prefetch.stats().prefetchHits - before).toBe(1)
      expect(again).toStrictEqual(await env.bare.user.findFirst(loginArgs(member)))
    })
    const learned = prisma.$prefetch.model()
    const login = learned.transitions.find((t) => t.next.startsWith('User.findFirst') && t.arguments.length > 0)
    expect(login?.arguments).toEqual([
      expect.objectContaining({ slot: 'where.email', from: expect.stringMatching(/of the session's last read of its kind \(User\.findFirst/), confidence: 1 }),
      expect.objectContaining({ slot: 'where.name', from: expect.stringMatching(/of the session's last read of its kind \(User\.findFirst/), confidence: 1 }),
    ])
  })
})
