import { describe, expect, it } from 'vitest'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const rows = await seed(env.bare)

describe('single-row reads answered from a cached list', () => {
  it('serves findUnique by id or by another unique field from a list of the same row shape (0 database queries)', async () => {
    const { prisma, spy } = await env.client({ learn: false })
    const users = await prisma.user.findMany({ orderBy: { id: 'asc' } })
    const calls = spy.calls.length
    for (const user of users) {
      expect(await prisma.user.findUnique({ where: { id: user.id } })).toStrictEqual(await env.bare.user.findUnique({ where: { id: user.id } }))
      expect(await prisma.user.findUniqueOrThrow({ where: { email: user.email } })).toStrictEqual(await env.bare.user.findUnique({ where: { email: user.email } }))
    }
    expect(reached(spy.calls, calls)).toBe(0)
    expect(prisma.$prefetch.stats().byModel.User).toMatchObject({ hits: users.length * 2, misses: 1 })
  })

  it('goes to the database when the shape differs, the row is not in the list, or the where has more than the key', async () => {
    const { prisma, spy } = await env.client({ learn: false })
    await prisma.user.findMany({ where: { id: rows.alice.id }, select: { id: true, name: true } })
    const calls = spy.calls.length
    await prisma.user.findUnique({ where: { id: rows.alice.id } }) // all fields: another shape
    await prisma.user.findUnique({ where: { id: rows.bob.id }, select: { id: true, name: true } }) // not in the list
    await prisma.user.findUnique({ where: { id: rows.alice.id, email: rows.alice.email }, select: { id: true, name: true } })
    expect(reached(spy.calls, calls)).toBe(3)
    const served = await prisma.user.findUnique({ where: { id: rows.alice.id }, select: { id: true, name: true } })
    expect(served).toStrictEqual({ id: rows.alice.id, name: 'Alice' })
    expect(reached(spy.calls, calls)).toBe(3)
  })

  it('never serves a row from a list that a write has outdated, including one to an included relation', async () => {
    const { prisma, spy } = await env.client({ learn: false })
    const include = { posts: { orderBy: { id: 'asc' as const } } }
    await prisma.user.findMany({ include })
    await prisma.post.update({ where: { id: rows.posts[0].id }, data: { title: 'Retitled' } })
    const calls = spy.calls.length
    const author = await prisma.user.findUnique({ where: { id: rows.posts[0].authorId }, include })
    expect(reached(spy.calls, calls)).toBe(1)
    expect(author!.posts.find((p) => p.id === rows.posts[0].id)!.title).toBe('Retitled')

    await prisma.user.findMany({ orderBy: { id: 'asc' } })
    await prisma.user.update({ where: { id: rows.bob.id }, data: { name: 'Robert' } })
    const before = spy.calls.length
    expect((await prisma.user.findUnique({ where: { id: rows.bob.id } }))!.name).toBe('Robert')
    expect(reached(spy.calls, before)).toBe(1)
  })

  it('keeps scopes apart', async () => {
    let tenant = 'a'
    const { prisma, spy } = await env.client({ learn: false, scope: () => tenant })
    await prisma.user.findMany()
    tenant = 'b'
    const calls = spy.calls.length
    await prisma.user.findUnique({ where: { id: rows.alice.id } })
    expect(reached(spy.calls, calls)).toBe(1)
  })
})
