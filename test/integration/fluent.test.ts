import { describe, expect, it } from 'vitest'
import { setup } from '../support/setup.ts'

// A fluent read (`prisma.user.findUnique(...).profile()`) reaches query extensions as the plain
// read with the relation selected, and Prisma unpacks the relation inside query(): the same
// arguments, another result shape. Neither may be served the other's.
const env = await setup()
const { prisma, bare } = env
const user = await bare.user.create({ data: { email: 'fluent@example.com', profile: { create: { bio: 'b' } }, posts: { create: [{ title: 't' }] } } })
const where = { id: user.id }

describe('fluent relation reads', () => {
  it('after the plain read with the same arguments, a fluent read returns the relation alone', async () => {
    expect(await prisma.user.findUnique({ where, select: { profile: true } })).toEqual(await bare.user.findUnique({ where, select: { profile: true } }))
    expect(await prisma.user.findUnique({ where }).profile()).toEqual(await bare.user.findUnique({ where }).profile())
    expect(await prisma.user.findUnique({ where, select: { posts: { take: 1 } } })).toEqual(await bare.user.findUnique({ where, select: { posts: { take: 1 } } }))
    expect(await prisma.user.findUnique({ where }).posts({ take: 1 })).toEqual(await bare.user.findUnique({ where }).posts({ take: 1 }))
  })

  it('after a fluent read, the plain read with the same arguments returns the parent row', async () => {
    const other = await bare.user.create({ data: { email: 'fluent-2@example.com', profile: { create: { bio: 'c' } } } })
    const w = { id: other.id }
    expect(await prisma.user.findUniqueOrThrow({ where: w }).profile()).toEqual(await bare.user.findUniqueOrThrow({ where: w }).profile())
    expect(await prisma.user.findUniqueOrThrow({ where: w, select: { profile: true } })).toEqual(await bare.user.findUniqueOrThrow({ where: w, select: { profile: true } }))
  })
})
