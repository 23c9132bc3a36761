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

  it('rejects a bad session id or options', () => {
    expect(() => env.prisma.$prefetch.session('', () => 1)).toThrow(/session\(\) needs a non-empty session id string/)
    expect(() => env.prisma.$prefetch.forSession(42 as unknown as string)).toThrow(/forSession\(\) needs a non-empty session id string: 42/)
    expect(() => env.prisma.$prefetch.session('s', () => 1, { userId: 7 as unknown as string })).toThrow(/userId/)
  })
})
