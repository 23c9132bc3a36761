import { describe, expect, it } from 'vitest'
import { BLOG_SCALES, blogContext, blogPages, createBlogSession, seedBlog } from '../../bench/workloads/blog.ts'
import { paramRng, planSession } from '../../bench/workloads/sessions.ts'
import { setup } from '../support/setup.ts'
import { provider } from '../helpers/db.ts'

// The blog workloads on a real database: the same sessions read the same rows; blog-views also
// writes one counter per post and author page.
const env = await setup({ learn: false })
const scale = { users: 20, postsPerUser: 5, commentsPerPost: 2 }
await seedBlog(env.bare as never, { scale, seed: 1, provider })

describe('blog workloads', () => {
  it('blog-views writes a counter on every post and author page; blog-views-readonly reads the same rows and writes nothing', async () => {
    const ctx = blogContext(scale)
    const played: Record<string, { reads: string[]; writes: number }> = {}
    for (const name of ['blog-views-readonly', 'blog-views'] as const) {
      const client = await env.client({ learn: false })
      const before = client.spy.calls.length
      const plan = planSession(name, 3)
      const session = createBlogSession(ctx, name === 'blog-views')
      const rng = paramRng(plan)
      for (const page of plan.pages) await blogPages[page as keyof typeof blogPages](client.prisma as never, session, rng)
      const calls = client.spy.calls.slice(before)
      played[name] = {
        reads: calls.filter((c) => c.operation.startsWith('find')).map((c) => `${c.model}.${c.operation}`),
        writes: calls.filter((c) => c.operation === 'update').length,
      }
      const counted = plan.pages.filter((page) => page !== 'home').length
      expect(played[name].writes, name).toBe(name === 'blog-views' ? counted : 0)
    }
    expect(played['blog-views'].reads.length).toBeGreaterThan(0)
    // With the writes, some reads that hit before go to the database; none is skipped.
    expect(played['blog-views'].reads.length).toBeGreaterThanOrEqual(played['blog-views-readonly'].reads.length)
  })

  it('has the small scale the benchmark seeds', () => {
    expect(blogContext(BLOG_SCALES.small)).toEqual({ posts: 1000, users: 100 })
  })
})
