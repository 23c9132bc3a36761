// The README's session code, taken from its code blocks and run as written: Express 5 with
// express-session and Fastify 5 with @fastify/session as real HTTP servers on an ephemeral port,
// and the Next.js route handler called with Web Requests. After a few sessions have shown that a
// user page is followed by that user's posts, a new session's second page is served from the
// prefetch: no query reaches the driver adapter for it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import express from 'express'
import session from 'express-session'
import Fastify from 'fastify'
import ts from 'typescript'
import { afterAll, describe, expect, it } from 'vitest'
import { readmeBlock, readmeLine } from '../support/readme-client.ts'
import { seed } from '../support/seed.ts'
import { setup } from '../support/setup.ts'

const env = await setup()
await seed(env.bare)
const TRAINING = 6 // above learn.minSupport (5)
const EMAIL = 'alice@example.com'

type Client = Awaited<ReturnType<typeof env.client>>
const sessionsBlock = readmeBlock('// Express')

/** A browser: keeps the cookies a server sets and sends them back. */
function browser(base: string) {
  const jar = new Map<string, string>()
  return async (path: string) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const response = await fetch(base + path, { headers: cookie ? { cookie } : {} })
    for (const set of response.headers.getSetCookie()) {
      const [pair] = set.split(';')
      const at = pair.indexOf('=')
      jar.set(pair.slice(0, at), pair.slice(at + 1))
    }
    expect(response.status, path).toBe(200)
    return (await response.json()) as { id: number; posts?: string[] }
  }
}

/** The two pages every session visits: a user by email, then that user's posts. */
function routes(client: Client) {
  return {
    user: async (email: string) => {
      const user = await client.prisma.user.findUnique({ where: { email } })
      return { id: user!.id }
    },
    posts: async (id: number) => ({ id, posts: (await client.prisma.post.findMany({ where: { authorId: id } })).map((p) => p.title) }),
  }
}

/** Trains with TRAINING sessions, then checks a new session's second page reaches no database. */
async function secondPageFromPrefetch(client: Client, base: string) {
  for (let i = 0; i < TRAINING; i++) {
    const get = browser(base)
    const { id } = await get(`/users/${encodeURIComponent(EMAIL)}`)
    await get(`/posts/${id}`)
    await client.prisma.$prefetch.idle()
  }
  const get = browser(base)
  const { id } = await get(`/users/${encodeURIComponent(EMAIL)}`)
  await client.prisma.$prefetch.idle()
  const before = client.sql.queries
  const hits = client.prisma.$prefetch.stats().hits
  const page = await get(`/posts/${id}`)
  expect(page.posts!.length).toBeGreaterThan(0)
  // Without read-through caching, only a prefetched result can serve it.
  expect(client.sql.queries - before).toBe(0)
  expect(client.prisma.$prefetch.stats().hits).toBe(hits + 1)
}

describe("the README's session code", () => {
  it('Express 5 with express-session: a session is learned from and its second page is prefetched', async () => {
    const client = await env.client({ readThrough: false }) // a hit is a prefetched result, not an earlier session's read
    const app = express()
    app.use(session({ secret: 'a secret of the test only', resave: false, saveUninitialized: true }))
    new Function('app', 'prisma', readmeLine(sessionsBlock, 'app.use('))(app, client.prisma)
    const pages = routes(client)
    app.get('/users/:email', async (req, res) => void res.json(await pages.user(String(req.params.email))))
    app.get('/posts/:id', async (req, res) => void res.json(await pages.posts(Number(req.params.id))))
    const server = app.listen(0, '127.0.0.1')
    await new Promise<void>((resolve) => server.once('listening', resolve))
    try {
      await secondPageFromPrefetch(client, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('Fastify 5 with @fastify/session: a session is learned from and its second page is prefetched', async () => {
    const client = await env.client({ readThrough: false }) // a hit is a prefetched result, not an earlier session's read
    const fastify = Fastify()
    await fastify.register(fastifyCookie)
    await fastify.register(fastifySession, { secret: 'a secret of the test only, 32 characters or more', cookie: { secure: false } })
    new Function('fastify', 'prisma', readmeLine(sessionsBlock, 'fastify.addHook('))(fastify, client.prisma)
    const pages = routes(client)
    fastify.get<{ Params: { email: string } }>('/users/:email', (request) => pages.user(request.params.email))
    fastify.get<{ Params: { id: string } }>('/posts/:id', (request) => pages.posts(Number(request.params.id)))
    await fastify.listen({ port: 0, host: '127.0.0.1' })
    try {
      await secondPageFromPrefetch(client, `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`)
    } finally {
      await fastify.close()
    }
  })

  it("Next.js: the route handler, called with Web Requests, serves a learned session's posts from the prefetch", async () => {
    const client = await env.client({ readThrough: false }) // a hit is a prefetched result, not an earlier session's read
    const root = join(import.meta.dirname, '..', '..', '.tmp')
    mkdirSync(root, { recursive: true })
    const dir = mkdtempSync(join(root, 'next-'))
    afterAll(() => rmSync(dir, { recursive: true, force: true }))
    const handler = join(dir, 'route.mjs')
    const source = `const prisma = globalThis.__readmePrisma\n${readmeBlock('// app/users/[email]/route.ts')}`
    writeFileSync(handler, ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText)
    ;(globalThis as { __readmePrisma?: unknown }).__readmePrisma = client.prisma
    const { GET } = (await import(pathToFileURL(handler).href)) as { GET: (request: Request, context: { params: Promise<{ email: string }> }) => Promise<Response> }
    const call = async (sid: string) => {
      const response = await GET(new Request(`http://localhost/users/${EMAIL}`, { headers: { cookie: `theme=dark; sid=${sid}` } }), { params: Promise.resolve({ email: EMAIL }) })
      expect(response.status).toBe(200)
      return (await response.json()) as { posts: string[] }
    }
    for (let i = 0; i < TRAINING; i++) {
      await call(`train-${i}`)
      await client.prisma.$prefetch.idle()
    }
    const before = client.prisma.$prefetch.stats()
    const queries = client.sql.queries
    const page = await call('new-session')
    const after = client.prisma.$prefetch.stats()
    expect(page.posts.length).toBeGreaterThan(0)
    // The posts read is served by a prefetched result (read-through is off): one hit, and at most
    // the user's query and that prefetch's reach the database (the prefetch may already be cached).
    expect(after.hits).toBe(before.hits + 1)
    expect(after.misses).toBe(before.misses + 1)
    expect(client.sql.queries - queries).toBeLessThanOrEqual(2)
  })
})
