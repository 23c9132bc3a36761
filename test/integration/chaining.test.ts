import { describe, expect, it } from 'vitest'
import { reached, setup } from '../support/setup.ts'

// Chaining: a speculative read predicts the reads that follow it, so a page's later reads are
// ready before they are asked for, not only its next one.
const env = await setup()

/** Authors with a profile and a post each: a post page reads the post, its author, the author's profile. */
const posts: { id: number }[] = []
for (let i = 0; i < 9; i++) {
  const user = await env.bare.user.create({ data: { email: `chain${i}@example.com`, profile: { create: { bio: `bio ${i}` } } } })
  posts.push(await env.bare.post.create({ data: { title: `post ${i}`, authorId: user.id }, select: { id: true } }))
}

type Client = Awaited<ReturnType<typeof env.client>>['prisma']

async function postPage(prisma: Client, postId: number) {
  const post = await prisma.post.findUniqueOrThrow({ where: { id: postId } })
  const author = await prisma.user.findUniqueOrThrow({ where: { id: post.authorId } })
  return prisma.profile.findUnique({ where: { userId: author.id } })
}

/** Trains on eight post pages, then opens the last one: the post is read, and nothing else is asked until speculation is idle. */
async function visit(chainDepth: number) {
  const { prisma, spy } = await env.client({ learn: { chainDepth } })
  for (const [i, post] of posts.slice(0, 8).entries()) await prisma.$prefetch.session(`train-${i}`, () => postPage(prisma, post.id))
  await prisma.$prefetch.idle()
  prisma.$prefetch.resetStats()
  const profile = await prisma.$prefetch.session('visit', async () => {
    const post = await prisma.post.findUniqueOrThrow({ where: { id: posts[8].id } })
    await prisma.$prefetch.idle()
    const since = spy.calls.length
    const author = await prisma.user.findUniqueOrThrow({ where: { id: post.authorId } })
    const profile = await prisma.profile.findUnique({ where: { userId: author.id } })
    return { profile, reached: reached(spy.calls, since) }
  })
  return { ...profile, stats: prisma.$prefetch.stats() }
}

describe('chaining', () => {
  it('at chainDepth 2, the read after the predicted one is ready too: both served on time, none reaches the database', async () => {
    const { profile, reached: queries, stats } = await visit(2)
    expect(profile).toStrictEqual(await env.bare.profile.findFirst({ where: { user: { posts: { some: { id: posts[8].id } } } } }))
    expect(queries).toBe(0)
    expect(stats.byModel.User?.prefetchHits).toBe(1)
    expect(stats.byModel.Profile?.prefetchHits).toBe(1)
    expect(stats.lateHits).toBe(0)
  })

  it('at chainDepth 1, only the next read is ready: the one after it is not', async () => {
    const { profile, reached: queries, stats } = await visit(1)
    expect(profile).toStrictEqual(await env.bare.profile.findFirst({ where: { user: { posts: { some: { id: posts[8].id } } } } }))
    expect(stats.byModel.User?.prefetchHits).toBe(1)
    // The profile was predicted only once its user was read: it joined that speculative read late or missed.
    expect(stats.byModel.Profile?.prefetchHits ?? 0).toBe(0)
    expect(queries + stats.lateHits).toBeGreaterThan(0)
  })
})
