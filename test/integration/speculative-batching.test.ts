import { describe, expect, it } from 'vitest'
import { unbatched } from '../../src/middleware/composition.ts'
import { setup } from '../support/setup.ts'

// Prisma sends the findUnique calls of one tick that have the same shape as one batched query:
// its errors read differently from a lone query's, and a database error of one call in it fails
// every call in it. A speculative findUnique sent beside the application's own must never land in
// its batch: the application's read then fails exactly as on the bare client, or not at all.
const env = await setup()
const users: { id: number }[] = []
for (let i = 0; i < 12; i++) users.push(await env.bare.user.create({ data: { email: `batching${i}@example.com`, name: `user ${i}` }, select: { id: true } }))

const select = { name: true }
type Client = Awaited<ReturnType<typeof env.client>>['prisma']

/**
 * A page reads one user, then the first user, both with findUniqueOrThrow: learned, the second
 * read is predicted as soon as the first starts (from its arguments alone), and is sent in that
 * tick. Prisma sends same-tick findUniqueOrThrow calls of one shape as one compacted query.
 */
async function page(prisma: Client, id: number) {
  await prisma.user.findUniqueOrThrow({ where: { id }, select })
  await prisma.user.findUniqueOrThrow({ where: { id: users[0].id }, select })
}

/** The class, code and reason of a failed read (the message quotes the call site first). */
async function outcome(read: () => Promise<unknown>) {
  try {
    return { ok: await read() }
  } catch (error) {
    const e = error as { constructor: { name: string }; code?: string; message: string }
    return { class: e.constructor.name, code: e.code, reason: e.message.trim().split('\n').at(-1) }
  }
}

describe("a speculative findUnique predicted as the application's read starts", () => {
  // A speculative findUniqueOrThrow of another key, predicted as the application's starts, would
  // land in Prisma's batch of that tick, and a findUniqueOrThrow that finds nothing then fails with
  // P2025 without the sentence "No record was found for a query." (class and code as on the bare
  // client). It is sent at once, in a shape of its own.
  it('is not batched with it: a findUniqueOrThrow that finds nothing fails as on the bare client', async () => {
    const { prisma, spy, sql } = await env.client()
    for (const [i, user] of users.slice(1, 11).entries()) await prisma.$prefetch.session(`train-${i}`, () => page(prisma, user.id))
    await prisma.$prefetch.idle()
    // The first user changes: its cached read ends, so the prediction is read again.
    await prisma.user.update({ where: { id: users[0].id }, data: { name: 'renamed' } })
    const missing = 1_000_000
    const expected = await outcome(() => env.bare.user.findUniqueOrThrow({ where: { id: missing }, select }))
    expect(expected).toMatchObject({ class: 'PrismaClientKnownRequestError', code: 'P2025' })

    const sent = { speculative: spy.speculative.length, sql: sql.queries }
    const got = await prisma.$prefetch.session('visit', () => outcome(() => prisma.user.findUniqueOrThrow({ where: { id: missing }, select })))
    await prisma.$prefetch.idle()
    expect(got).toEqual(expected)
    // The first user was predicted and read speculatively, once, in a query of its own. (What
    // follows that read is the same read again, predicted as it is sent: it finds it in flight.)
    const speculative = spy.speculative.slice(sent.speculative)
    expect(speculative).toHaveLength(1)
    expect(speculative[0]).toMatchObject({ model: 'User', operation: 'findUniqueOrThrow', args: { where: { id: users[0].id }, select } })
    expect(sql.queries - sent.sql).toBe(2)
  })

  it('is not sent when it is the read starting: that read is in flight already', async () => {
    const { prisma, spy } = await env.client()
    // A page reads a user, the user's posts, then the user again (a hit): learned, the posts are
    // predicted as the user's read starts, and the user's read as the posts' starts.
    const visit = async (id: number) => {
      await prisma.user.findUniqueOrThrow({ where: { id }, select })
      await prisma.post.findMany({ where: { authorId: id } })
      await prisma.user.findUniqueOrThrow({ where: { id }, select })
    }
    for (const [i, user] of users.slice(0, 10).entries()) await prisma.$prefetch.session(`pages-${i}`, () => visit(user.id))
    await prisma.$prefetch.idle()

    const id = users[11].id
    const sent = spy.speculative.length
    await prisma.$prefetch.session('visit', () => prisma.user.findUniqueOrThrow({ where: { id }, select }))
    await prisma.$prefetch.idle()
    const speculative = spy.speculative.slice(sent)
    // The posts were predicted from the user's read; the user's read predicted from them joined it.
    expect(speculative).toMatchObject([{ model: 'Post', operation: 'findMany', args: { where: { authorId: id } } }])
    expect(prisma.$prefetch.stats().prefetch.skipped.inFlight).toBeGreaterThan(0)
  })

  it('is sent in a shape Prisma does not batch with it, and returns exactly what the bare read returns', async () => {
    const [author, other] = users
    const post = await env.bare.post.create({ data: { title: 'batching', authorId: author.id } })
    await env.bare.vote.create({ data: { userId: author.id, postId: post.id, value: 1 } })
    await env.bare.follow.create({ data: { followerId: author.id, followeeId: other.id } })
    const reads: [string, Record<string, unknown>][] = [
      ['user', { where: { id: author.id } }],
      ['user', { where: { id: 1_000_000 } }],
      ['user', { where: { email: 'batching0@example.com' }, include: { posts: { include: { votes: true } }, profile: true } }],
      ['user', { where: { id: author.id }, select: { name: true, avatar: true, _count: { select: { posts: true } } } }],
      ['user', { where: { id: author.id }, omit: { settings: true } }],
      ['user', { where: { id: author.id, AND: { active: true } } }],
      ['user', { where: { id: author.id, AND: [{ active: true }, { role: 'USER' }] } }],
      ['user', { where: { id: author.id, active: false } }],
      ['vote', { where: { userId_postId: { userId: author.id, postId: post.id } } }],
      ['follow', { where: { followerId_followeeId: { followerId: author.id, followeeId: other.id } }, include: { followee: true } }],
      ['post', { where: { id: post.id }, include: { author: { select: { email: true, name: true } } } }],
    ]
    const bare = env.bare as unknown as Record<string, { findUnique(args: unknown): Promise<unknown> }>
    for (const [model, args] of reads) {
      const sent = unbatched('findUnique', args) as { where: Record<string, unknown> }
      // Another shape: Prisma's batch key is the model, the argument names (nested) and the selection.
      expect(Object.keys(sent.where)).toContain('AND')
      expect(sent.where.AND).not.toEqual((args.where as Record<string, unknown>).AND)
      const [want, got] = [await bare[model].findUnique(args), await bare[model].findUnique(sent)]
      expect(got).toEqual(want)
      // Key order too.
      expect(JSON.stringify(got, (_, v) => (typeof v === 'bigint' ? String(v) : v))).toBe(JSON.stringify(want, (_, v) => (typeof v === 'bigint' ? String(v) : v)))
    }
    expect(unbatched('findMany', reads[0][1])).toBe(reads[0][1])
  })
})
