/**
 * The blog workloads, on the test schema (prisma/schema.prisma): readers move between the home
 * page, post pages and author pages. Two workloads play the very same sessions and parameters:
 *
 *   blog-views           every post page increments the viewed post's `views`, and every author
 *                        page the viewed author's `karma` (a profile-view counter): a write on
 *                        every page but the home page, to a row the page just read;
 *   blog-views-readonly  the same pages without those writes.
 *
 * They measure what a write on every page costs the cache: with generations per model every
 * counter ends every cached read of its model; with row generations only those of its row.
 */
import type { PrismaClient } from '../../src/generated/prisma/client.ts'
import { Rng } from './random.ts'
import { insertInBatches, resetSequences } from './seeding.ts'

export type BlogWorkload = 'blog-views' | 'blog-views-readonly'
export const BLOG_PAGES = ['home', 'post', 'author'] as const
export type BlogPage = (typeof BLOG_PAGES)[number]

/** How big a blog database to make. */
export interface BlogScale {
  users: number
  postsPerUser: number
  commentsPerPost: number
}

export const BLOG_SCALES = {
  small: { users: 100, postsPerUser: 10, commentsPerPost: 3 },
  standard: { users: 1000, postsPerUser: 10, commentsPerPost: 3 },
} as const satisfies Record<string, BlogScale>

/** The session plan's random streams are named by this, shared by both blog workloads. */
export const BLOG_FAMILY = 'blog'

/** Pages in a session: a first home page, then a walk. */
const SESSION_PAGES = 14
const NEXT: Record<BlogPage, ReadonlyArray<[BlogPage, number]>> = {
  home: [['post', 0.7], ['author', 0.2], ['home', 0.1]],
  post: [['post', 0.4], ['author', 0.3], ['home', 0.3]],
  author: [['post', 0.7], ['home', 0.3]],
}

/** The pages of one session, from its own random stream. */
export function blogSessionPages(rng: Rng): BlogPage[] {
  const pages: BlogPage[] = ['home']
  while (pages.length < SESSION_PAGES) {
    let r = rng.float()
    const options = NEXT[pages[pages.length - 1]]
    let next = options[options.length - 1][0]
    for (const [page, p] of options) {
      if (r < p) {
        next = page
        break
      }
      r -= p
    }
    pages.push(next)
  }
  return pages
}

/** What a reader's browser holds between pages: the posts the last page listed, the last author. */
export interface BlogSession {
  ctx: BlogContext
  shown: number[]
  author: number | undefined
  /** Whether pages count their views (blog-views) or only read (blog-views-readonly). */
  counts: boolean
}

export interface BlogContext {
  posts: number
  users: number
}

export function blogContext(scale: BlogScale): BlogContext {
  return { posts: scale.users * scale.postsPerUser, users: scale.users }
}

export function createBlogSession(ctx: BlogContext, counts: boolean): BlogSession {
  return { ctx, shown: [], author: undefined, counts }
}

/** A popular post: post ids skewed toward the first ones (a few posts get most of the views). */
function popularPost(ctx: BlogContext, rng: Rng): number {
  return 1 + Math.floor(ctx.posts * rng.float() ** 3)
}

/** The client a blog page runs on: the test schema's (SQLite or PostgreSQL: the same API). */
export type BlogDb = Pick<PrismaClient, 'user' | 'post' | 'comment' | 'tag' | '$executeRawUnsafe'>

export const blogPages: Record<BlogPage, (db: BlogDb, session: BlogSession, rng: Rng) => Promise<void>> = {
  async home(db, session) {
    const posts = await db.post.findMany({ where: { published: true }, orderBy: { id: 'asc' }, take: 10, select: { id: true, title: true, authorId: true } })
    await db.tag.findMany({ orderBy: { id: 'asc' } })
    session.shown = posts.map((p) => p.id)
  },

  async post(db, session, rng) {
    const id = session.shown.length > 0 && rng.chance(0.6) ? rng.pick(session.shown) : popularPost(session.ctx, rng)
    const post = await db.post.findUnique({ where: { id }, select: { id: true, title: true, body: true, views: true, authorId: true, createdAt: true } })
    if (post === null) return
    await db.user.findUnique({ where: { id: post.authorId }, select: { id: true, name: true, email: true } })
    await db.comment.findMany({ where: { postId: id }, orderBy: { id: 'asc' }, take: 10, select: { id: true, text: true, authorId: true } })
    // The link to the next post of the series.
    await db.post.findUnique({ where: { id: id + 1 }, select: { id: true, title: true } })
    if (session.counts) await db.post.update({ where: { id }, data: { views: { increment: 1 } }, select: { id: true, views: true } })
    session.author = post.authorId
    session.shown = [id + 1]
  },

  async author(db, session, rng) {
    const id = session.author ?? 1 + rng.int(session.ctx.users)
    await db.user.findUnique({ where: { id }, select: { id: true, name: true, email: true, karma: true } })
    const posts = await db.post.findMany({ where: { authorId: id }, orderBy: { id: 'desc' }, take: 10, select: { id: true, title: true } })
    // The whole row comes back, so both of its unique values (id and email) are known.
    if (session.counts) await db.user.update({ where: { id }, data: { karma: { increment: 1 } } })
    session.shown = posts.map((p) => p.id)
    session.author = id
  },
}

/** Seeds users, their posts and comments, with explicit ids; returns the rows written. */
export async function seedBlog(db: BlogDb, { scale, seed, provider }: { scale: BlogScale; seed: number; provider: 'sqlite' | 'postgresql' }): Promise<Record<string, number>> {
  const rng = Rng.derive(seed, BLOG_FAMILY, 'seed')
  const created = new Date('2024-01-01T00:00:00.000Z')
  const users = Array.from({ length: scale.users }, (_, i) => ({ id: i + 1, email: `reader${i + 1}@example.com`, name: `Reader ${i + 1}`, createdAt: created }))
  const posts = Array.from({ length: scale.users * scale.postsPerUser }, (_, i) => ({
    id: i + 1,
    title: `Post ${i + 1}`,
    body: rng.string(200, 600),
    published: rng.chance(0.9),
    authorId: 1 + (i % scale.users),
    createdAt: created,
  }))
  const comments = posts.flatMap((post, i) =>
    Array.from({ length: scale.commentsPerPost }, (_, k) => ({
      id: i * scale.commentsPerPost + k + 1,
      text: rng.string(20, 80),
      postId: post.id,
      authorId: 1 + rng.int(scale.users),
      createdAt: created,
    })),
  )
  const rows = {
    User: await insertInBatches(users, 500, (batch) => db.user.createMany({ data: batch })),
    Post: await insertInBatches(posts, 500, (batch) => db.post.createMany({ data: batch })),
    Comment: await insertInBatches(comments, 500, (batch) => db.comment.createMany({ data: batch })),
    Tag: await insertInBatches(['orm', 'cache', 'sql', 'news'].map((name, i) => ({ id: i + 1, name })), 500, (batch) => db.tag.createMany({ data: batch })),
  }
  if (provider === 'postgresql') await resetSequences(db, ['User', 'Post', 'Comment', 'Tag'])
  return rows
}
