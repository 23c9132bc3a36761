import { describe, expect, it } from 'vitest'
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
  // A speculative findUnique predicted as the application's starts is sent as findFirst (same row,
  // never batched): the application's findUniqueOrThrow that finds nothing fails with P2025 and the
  // sentence "No record was found for a query.", as on the bare client, not as a member of a batch.
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
    // The first user was predicted and read speculatively, each read in a query of its own.
    const speculative = spy.speculative.slice(sent.speculative)
    expect(speculative.length).toBeGreaterThan(0)
    for (const read of speculative) expect(read).toMatchObject({ model: 'User', operation: 'findFirstOrThrow', args: { where: { id: users[0].id }, select } })
    expect(sql.queries - sent.sql).toBe(1 + speculative.length)
  })

  it('is sent once, though chaining predicts it again as it is sent', async () => {
    const { prisma, spy } = await env.client()
    for (const [i, user] of users.slice(1, 11).entries()) await prisma.$prefetch.session(`train-${i}`, () => page(prisma, user.id))
    await prisma.$prefetch.idle()
    // The first user changes: its cached read ends, so the prediction is read again.
    await prisma.user.update({ where: { id: users[0].id }, data: { name: 'renamed' } })
    const sent = spy.speculative.length
    await prisma.$prefetch.session('visit', () => prisma.user.findUniqueOrThrow({ where: { id: 1_000_000 }, select }).catch(() => null))
    await prisma.$prefetch.idle()
    const speculative = spy.speculative.slice(sent)
    expect(speculative.length).toBeGreaterThan(0)
    expect(new Set(speculative.map((read) => JSON.stringify(read))).size).toBe(speculative.length)
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
})
