import { describe, expect, it } from 'vitest'
import type { ScopeContext } from '../../src/types.ts'
import { setup } from '../support/setup.ts'

const seen: ScopeContext[] = []
const env = await setup({ scope: (context) => (seen.push(context), undefined) })

describe('sessions', () => {
  it('session() makes every query inside it part of the session', async () => {
    seen.length = 0
    await env.prisma.$prefetch.session('s-1', async () => {
      await env.prisma.tag.findMany()
      await new Promise((resolve) => setTimeout(resolve, 1))
      await env.prisma.user.count()
    }, { userId: 'u-1' })
    await env.prisma.tag.count()
    expect(seen.map((c) => [c.model, c.operation, c.sessionId, c.userId])).toEqual([
      ['Tag', 'findMany', 's-1', 'u-1'],
      ['User', 'count', 's-1', 'u-1'],
      ['Tag', 'count', undefined, undefined],
    ])
  })

  it('forSession() gives a client bound to a session', async () => {
    seen.length = 0
    const db = env.prisma.$prefetch.forSession<typeof env.prisma>('s-2')
    await db.post.findMany({ take: 1 })
    await Promise.all([db.tag.findMany(), env.prisma.$prefetch.session('s-3', () => env.prisma.tag.count())])
    expect(seen.map((c) => c.sessionId).sort()).toEqual(['s-2', 's-2', 's-3'])
  })

  it('$forSession() gives the same session client, typed after the client it is called on', async () => {
    seen.length = 0
    const db = env.prisma.$forSession('s-4', { userId: 'u-4' })
    await db.post.findMany({ take: 1 })
    // Called on a client extended after prefetch(): that client, whole, in the session.
    const extended = env.prisma.$extends({ model: { tag: { named: () => 'tags' as const } } })
    const tags = extended.$forSession('s-5')
    expect(tags.tag.named()).toBe('tags')
    await Promise.all([tags.tag.findMany(), env.prisma.tag.count()])
    expect(seen.map((c) => [c.model, c.sessionId, c.userId]).sort((a, b) => String(a[1]).localeCompare(String(b[1])))).toEqual([
      ['Post', 's-4', 'u-4'],
      ['Tag', 's-5', undefined],
      ['Tag', undefined, undefined],
    ])
  })

  it('takes string, number and bigint ids in one form: 7, 7n and "7" are the same user', async () => {
    seen.length = 0
    await env.prisma.$prefetch.session(7, () => env.prisma.tag.count(), { userId: 42 })
    await env.prisma.$prefetch.session(8n, () => env.prisma.tag.count(), { userId: 42n })
    await env.prisma.$prefetch.session('9', () => env.prisma.tag.count(), { userId: '42' })
    await env.prisma.$prefetch.forSession<typeof env.prisma>(10, { userId: undefined }).tag.count()
    await env.prisma.$prefetch.session('11', () => env.prisma.tag.count(), { userId: null })
    expect(seen.map((c) => [c.sessionId, c.userId])).toEqual([
      ['7', '42'],
      ['8', '42'],
      ['9', '42'],
      ['10', undefined],
      ['11', undefined],
    ])
  })

  it('runs a request with a bad id outside any session, reports it to onError, and never fails it', async () => {
    const errors: { error: unknown; phase: string }[] = []
    const c = await env.client({ onError: (error, context) => errors.push({ error, phase: context.phase }) })
    const tags = await c.bare.tag.count()
    const bad: unknown[] = ['', undefined, null, Number.NaN, Infinity, { id: 1 }, [], () => 1, Symbol('s')]
    for (const id of bad) {
      expect(await c.prisma.$prefetch.session(id as string, () => c.prisma.tag.count())).toBe(tags)
      expect(await c.prisma.$prefetch.forSession<typeof c.prisma>(id as string).tag.count()).toBe(tags)
    }
    for (const userId of ['', Number.NaN, { id: 7 }, true]) {
      expect(await c.prisma.$prefetch.session('s', () => c.prisma.tag.count(), { userId: userId as string })).toBe(tags)
    }
    expect(await c.prisma.$prefetch.session('s', () => c.prisma.tag.count(), 'not options' as never)).toBe(tags)
    expect(errors).toHaveLength(bad.length * 2 + 5)
    for (const { error, phase } of errors) {
      expect(phase).toBe('session')
      expect(error).toBeInstanceOf(TypeError)
      expect((error as Error).message).toMatch(/^prisma-prefetch: (session|forSession)\(\) (needs a session id|userId must be|options must be)/)
    }
    expect(errors[0]!.error).toHaveProperty('message', expect.stringContaining('session() needs a session id (a non-empty string, a finite number or a bigint): ""'))
    // Outside any session: the scope saw no session, and no cache error was counted.
    expect(c.prisma.$prefetch.stats().errors).toMatchObject({ store: 0 })
  })

  it("type-checks the README's Express middleware, with a numeric user id or none", async () => {
    seen.length = 0
    type Request = { sessionID: string; user?: { id: number } }
    const middleware = (req: Request, _res: unknown, next: () => Promise<number>) =>
      env.prisma.$prefetch.session(req.sessionID, next, { userId: req.user?.id })
    await middleware({ sessionID: 'express-1', user: { id: 5 } }, {}, () => env.prisma.tag.count())
    await middleware({ sessionID: 'express-2' }, {}, () => env.prisma.tag.count())
    expect(seen.map((c) => [c.sessionId, c.userId])).toEqual([
      ['express-1', '5'],
      ['express-2', undefined],
    ])
  })
})
