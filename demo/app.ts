/**
 * The demo's application: a small blog served over HTTP from a Prisma client, exactly as an
 * application would be written without prisma-prefetch. The one line that is about prefetching
 * is the session middleware, which runs each request inside its visitor's session so the
 * extension can learn what each visitor reads next.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { PrismaClient } from '../src/generated/prisma/client.ts'

/** Comments a post page shows at most (the first by id). */
export const COMMENTS_PER_PAGE = 50

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void>
/** `$prefetch.session` of an extended client; absent on the bare client. */
type Sessions = { session<T>(id: string, fn: () => T): T } | undefined

/**
 * Session middleware, the shape of an Express/Fastify/Next.js one: everything the request does,
 * awaited inside, belongs to the visitor's session (a cookie here).
 */
function withSession(sessions: Sessions, next: Handler): Handler {
  return (request, response) => {
    const id = /(?:^|;\s*)sid=([^;]+)/.exec(request.headers.cookie ?? '')?.[1]
    return sessions && id ? sessions.session(id, () => next(request, response)) : next(request, response)
  }
}

export async function startBlog(prisma: PrismaClient): Promise<{ url: string; close(): Promise<void> }> {
  const sessions = (prisma as unknown as { $prefetch?: Sessions }).$prefetch
  const routes: Array<[RegExp, (id: number, request: IncomingMessage) => Promise<unknown>]> = [
    // Home: the latest posts.
    [
      /^\/$/,
      () =>
        prisma.post.findMany({
          where: { published: true },
          orderBy: { id: 'desc' },
          take: 10,
          select: { id: true, title: true, author: { select: { id: true, name: true } } },
        }),
    ],
    // A post, its tags and author, then its comments; the view is counted.
    [
      /^\/posts\/(\d+)$/,
      async (id) => {
        const post = await prisma.post.findUnique({ where: { id }, include: { author: { select: { id: true, name: true } }, tags: true } })
        if (!post) return null
        const comments = await prisma.comment.findMany({ where: { postId: id }, orderBy: { id: 'asc' }, take: COMMENTS_PER_PAGE })
        // A view counter: a write on every post page, on the row the page shows.
        await prisma.post.update({ where: { id }, data: { views: { increment: 1 } }, select: { id: true } })
        return { post, comments }
      },
    ],
    // An author: their profile, then their posts.
    [
      /^\/users\/(\d+)$/,
      async (id) => {
        const user = await prisma.user.findUnique({ where: { id }, include: { profile: true } })
        if (!user) return null
        const posts = await prisma.post.findMany({ where: { authorId: id }, orderBy: { id: 'desc' }, take: 10, select: { id: true, title: true } })
        return { user, posts }
      },
    ],
    // A tag and its posts.
    [
      /^\/tags\/(\d+)$/,
      async (id) => {
        const tag = await prisma.tag.findUnique({ where: { id } })
        if (!tag) return null
        const posts = await prisma.post.findMany({ where: { tags: { some: { id } } }, orderBy: { id: 'desc' }, take: 10, select: { id: true, title: true } })
        return { tag, posts }
      },
    ],
    // Writing: a comment on a post (the cache must never show the page without it afterwards).
    [
      /^\/posts\/(\d+)\/comments$/,
      (id, request) => prisma.comment.create({ data: { postId: id, authorId: Number(request.headers['x-user'] ?? 1), text: 'Nice post' } }),
    ],
  ]

  const handle: Handler = async (request, response) => {
    const path = request.url ?? '/'
    for (const [pattern, route] of routes) {
      const match = pattern.exec(path)
      if (!match) continue
      const body = await route(Number(match[1]), request)
      response.writeHead(body === null ? 404 : 200, { 'content-type': 'application/json' })
      response.end(JSON.stringify(body, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)))
      return
    }
    response.writeHead(404).end()
  }

  const app = withSession(sessions, handle)
  const server: Server = createServer((request, response) => {
    app(request, response).catch((error) => {
      response.writeHead(500).end(String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
