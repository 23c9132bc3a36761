import { describe, expect, it } from 'vitest'
import { setup } from '../support/setup.ts'

// Chained fan-out: a page lists rows, then looks up each row's record and, from that record, a
// record it refers to (each vote's post, then the post's author). The list fans out to the posts
// as one batched read; the posts' rows fan out again, as one batched read of their authors, so
// the page's per-row author lookups are ready before they are asked for.
const env = await setup()

// Readers first: no author's id is the id of a post a reader voted on, by chance.
const readers: { id: number }[] = []
for (let r = 0; r < 10; r++) readers.push(await env.bare.user.create({ data: { email: `reader${r}@example.com` }, select: { id: true } }))
const authors: { id: number }[] = []
for (let i = 0; i < 6; i++) authors.push(await env.bare.user.create({ data: { email: `author${i}@example.com`, name: `author ${i}` }, select: { id: true } }))
const posts: { id: number }[] = []
for (let i = 0; i < 12; i++) posts.push(await env.bare.post.create({ data: { title: `post ${i}`, authorId: authors[i % authors.length].id }, select: { id: true } }))
// Each reader votes on five consecutive posts (by five different authors), from a different first one.
for (const [r, reader] of readers.entries()) {
  for (let k = 0; k < 5; k++) await env.bare.vote.create({ data: { userId: reader.id, postId: posts[(r + k) % posts.length].id, value: 1 } })
}

type Client = Awaited<ReturnType<typeof env.client>>['prisma']

const votesOf = (userId: number) => ({ where: { userId }, orderBy: { id: 'asc' as const }, select: { postId: true } })
const authorName = (id: number) => ({ where: { id }, select: { name: true } })

/** The page: the reader's votes, and for each the post and its author's name (one query per row, as pages written this way do). */
async function loop(prisma: Client, votes: { postId: number }[]) {
  const out: unknown[] = []
  for (const { postId } of votes) {
    const post = await prisma.post.findUnique({ where: { id: postId } })
    out.push(post, await prisma.user.findUnique(authorName(post!.authorId)))
  }
  return out
}

/** Trains on eight readers' pages, forgets the results (of `forget` only, when given), then opens the last reader's. */
async function visit(chainDepth: number, forget?: string) {
  const { prisma, spy, sql } = await env.client({ learn: { chainDepth } })
  for (const [i, reader] of readers.slice(0, 8).entries()) {
    await prisma.$prefetch.session(`train-${i}`, async () => loop(prisma, await prisma.vote.findMany(votesOf(reader.id))))
  }
  await prisma.$prefetch.idle()
  await prisma.$prefetch.invalidate(forget)
  prisma.$prefetch.resetStats()
  const reader = readers[9]
  return prisma.$prefetch.session('visit', async () => {
    const votes = await prisma.vote.findMany(votesOf(reader.id))
    const speculative = spy.speculative.length
    // The user reads the list: what was predicted from it runs meanwhile.
    await prisma.$prefetch.idle()
    const batches = spy.speculative.slice(speculative).filter((call) => call.model === 'User' && call.operation === 'findMany')
    // The page's own reads that reached the database (speculative reads of what follows it may run meanwhile).
    const before = spy.calls.length
    const page = await loop(prisma, votes)
    return { page, votes, batches, queries: spy.calls.length - before, stats: prisma.$prefetch.stats() }
  })
}

describe('chained fan-out', () => {
  it("at chainDepth 2, a fan-out's rows fan out again: the per-row lookups of the next step come from one batched read, all on time", async () => {
    const { page, votes, batches, queries, stats } = await visit(2)
    expect(page).toStrictEqual(await loop(env.bare as unknown as Client, votes))
    expect(votes).toHaveLength(5)
    // Nothing of the page's loop reached the database: the posts and their authors were there.
    expect(queries).toBe(0)
    const ids = (await Promise.all(votes.map((vote) => env.bare.post.findUniqueOrThrow({ where: { id: vote.postId } })))).map((post) => post.authorId)
    expect(new Set(ids).size).toBe(5)
    expect(batches).toHaveLength(1)
    // The authors of the posts the list's fan-out fetched (the first row's post may go alone, its author with it).
    const batch = batches[0].args as { where: { id: { in: number[] } }; select: Record<string, boolean> }
    expect(batch.select).toStrictEqual({ name: true, id: true })
    expect(batch.where.id.in.length).toBeGreaterThanOrEqual(3)
    for (const id of batch.where.id.in) expect(ids).toContain(id)
    expect(stats.byModel.User).toMatchObject({ reads: 5, prefetchHits: 5, lateHits: 0, misses: 0 })
    expect(stats.byModel.Post).toMatchObject({ reads: 5, prefetchHits: 5, lateHits: 0 })
  })

  it("follows the rows found cached as it follows those it fetches: each post's author is ready", async () => {
    // Only the users are forgotten: the posts the page opens are cached from training.
    const { page, votes, batches, queries, stats } = await visit(2, 'User')
    expect(page).toStrictEqual(await loop(env.bare as unknown as Client, votes))
    expect(queries).toBe(0)
    expect(batches).toHaveLength(1)
    expect(stats.byModel.Post).toMatchObject({ reads: 5, misses: 0 })
    expect(stats.byModel.User).toMatchObject({ reads: 5, prefetchHits: 5, lateHits: 0, misses: 0 })
  })

  it('at chainDepth 1, the authors are predicted only as each post is read: none of them is there in time', async () => {
    const { page, votes, batches, queries, stats } = await visit(1)
    expect(page).toStrictEqual(await loop(env.bare as unknown as Client, votes))
    expect(batches).toHaveLength(0)
    expect(stats.byModel.User?.prefetchHits ?? 0).toBe(0)
    // Each author's read waited: on a speculative read it joined (late) or on its own query.
    expect((stats.byModel.User?.lateHits ?? 0) + (stats.byModel.User?.misses ?? 0)).toBe(5)
    expect(queries).toBe(stats.byModel.User?.misses ?? 0)
  })

  it("when a page opens one row of the list, what follows that row is that row's share: the others' followers are not fetched", async () => {
    const { prisma, spy } = await env.client({ learn: { chainDepth: 2 } })
    // Each reader opens one of their votes' posts, and that post's votes (a list: it does not batch).
    const open = async (reader: { id: number }, k: number) => {
      const votes = await prisma.vote.findMany(votesOf(reader.id))
      const post = await prisma.post.findUnique({ where: { id: votes[k % votes.length].postId } })
      return prisma.vote.findMany({ where: { postId: post!.id }, orderBy: { id: 'asc' } })
    }
    for (const [i, reader] of readers.slice(0, 8).entries()) await prisma.$prefetch.session(`one-${i}`, () => open(reader, i))
    await prisma.$prefetch.idle()
    await prisma.$prefetch.invalidate()
    prisma.$prefetch.resetStats()
    const speculative = spy.speculative.length
    await prisma.$prefetch.session('one-visit', async () => {
      await prisma.vote.findMany(votesOf(readers[9].id))
      await prisma.$prefetch.idle()
    })
    const calls = spy.speculative.slice(speculative)
    // The posts go as one fan-out (one of them is opened next); each post's votes would be read
    // only if that post is the one opened, one chance in five: under the threshold, none is sent.
    expect(calls.filter((call) => call.model === 'Post')).toHaveLength(1)
    expect(calls.filter((call) => call.model === 'Vote')).toHaveLength(0)
  })
})
