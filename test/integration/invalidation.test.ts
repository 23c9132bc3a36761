import { Decimal } from '@prisma/client-runtime-utils'
import { describe, expect, it } from 'vitest'
import { provider } from '../helpers/db.ts'
import { setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const { prisma, bare } = env
const rows = await seed(bare)
const quote = (name: string) => (provider === 'postgresql' ? `"${name}"` : `\`${name}\``)

/**
 * For each write: cache a read it affects, write, and check that the read returns exactly what
 * the database now says (a read through the bare client is the reference).
 */
async function expectFresh(read: (client: any) => Promise<unknown>, write: () => Promise<unknown>) {
  const before = await read(prisma)
  await read(prisma) // cached now
  await write()
  const expected = await read(bare)
  expect(expected).not.toStrictEqual(before) // the write changed what the read returns
  expect(await read(prisma)).toStrictEqual(expected)
}

let n = 0
const email = () => `user${++n}@example.com`

describe('every write leaves no stale read behind', () => {
  const usersByEmail = (c: any) => c.user.findMany({ where: { email: { startsWith: 'user' } }, orderBy: { email: 'asc' } })

  it('create', () => expectFresh(usersByEmail, () => prisma.user.create({ data: { email: email() } })))
  it('createMany', () => expectFresh(usersByEmail, () => prisma.user.createMany({ data: [{ email: email() }, { email: email() }] })))
  it('createManyAndReturn', () => expectFresh(usersByEmail, () => prisma.user.createManyAndReturn({ data: [{ email: email() }] })))
  it('update', () =>
    expectFresh(
      (c) => c.user.findUnique({ where: { id: rows.bob.id } }),
      () => prisma.user.update({ where: { id: rows.bob.id }, data: { balance: new Decimal('77.7'), karma: { increment: 1 } } }),
    ))
  it('updateMany', () =>
    expectFresh(
      (c) => c.post.count({ where: { published: true } }),
      () => prisma.post.updateMany({ where: { published: false, title: { endsWith: '1' } }, data: { published: true } }),
    ))
  it('updateManyAndReturn', () =>
    expectFresh(
      (c) => c.post.findMany({ where: { title: { endsWith: '3' } }, select: { title: true, score: true } }),
      () => prisma.post.updateManyAndReturn({ where: { title: { endsWith: '3' } }, data: { score: 99.5 } }),
    ))
  it('upsert', () =>
    expectFresh(usersByEmail, () => prisma.user.upsert({ where: { email: 'upserted@x.com' }, create: { email: 'user-upserted' }, update: {} })))
  it('delete', async () => {
    const victim = await prisma.user.create({ data: { email: email() } })
    await expectFresh(usersByEmail, () => prisma.user.delete({ where: { id: victim.id } }))
  })
  it('deleteMany', () => expectFresh(usersByEmail, () => prisma.user.deleteMany({ where: { email: { startsWith: 'user1' } } })))

  it('$executeRaw', () =>
    expectFresh(
      (c) => c.tag.findMany({ orderBy: { id: 'asc' } }),
      () => prisma.$executeRaw`UPDATE "Tag" SET name = ${'renamed-1'} WHERE id = ${rows.tags[0].id}`,
    ))
  it('$executeRawUnsafe', () =>
    expectFresh(
      (c) => c.tag.findMany({ orderBy: { id: 'asc' } }),
      () => prisma.$executeRawUnsafe(`UPDATE ${quote('Tag')} SET name = 'renamed-2' WHERE id = ${rows.tags[1].id}`),
    ))
  it('$queryRaw', () =>
    expectFresh(
      (c) => c.tag.findMany({ orderBy: { id: 'asc' } }),
      () => prisma.$queryRaw`UPDATE "Tag" SET name = ${'renamed-3'} WHERE id = ${rows.tags[2].id} RETURNING id`,
    ))
  it('$queryRawUnsafe', () =>
    expectFresh(
      (c) => c.profile.findMany(),
      () => prisma.$queryRawUnsafe(`UPDATE ${quote('Profile')} SET bio = 'raw' RETURNING id`),
    ))
})

describe('writes reach reads through relations', () => {
  it('a write to a related model invalidates a read that included it', () =>
    expectFresh(
      (c) => c.user.findUnique({ where: { id: rows.alice.id }, include: { posts: { include: { tags: true } } } }),
      () => prisma.tag.update({ where: { id: rows.tags[1].id }, data: { name: 'included-tag' } }),
    ))

  it('a nested write invalidates reads of the nested model', () =>
    expectFresh(
      (c) => c.comment.findMany({ where: { postId: rows.posts[1].id }, orderBy: { id: 'asc' } }),
      () =>
        prisma.post.update({
          where: { id: rows.posts[1].id },
          data: { comments: { create: { text: 'nested', authorId: rows.bob.id } } },
        }),
    ))

  it('connecting many-to-many rows invalidates reads filtered through the relation', () =>
    expectFresh(
      (c) => c.tag.findMany({ where: { posts: { some: { id: rows.posts[2].id } } }, orderBy: { id: 'asc' } }),
      () => prisma.post.update({ where: { id: rows.posts[2].id }, data: { tags: { set: [{ id: rows.tags[0].id }, { id: rows.tags[1].id }] } } }),
    ))

  it('a relation filter in where makes the read depend on the related model', () =>
    expectFresh(
      (c) => c.user.findMany({ where: { profile: { is: { bio: { contains: 'Tennis' } } } } }),
      () => prisma.profile.update({ where: { userId: rows.alice.id }, data: { bio: 'Tennis fan' } }),
    ))

  it('a cascading delete invalidates reads of the rows it removed', async () => {
    const victim = await bare.user.create({
      data: { email: email(), posts: { create: { title: 'doomed', comments: { create: { text: 'gone too', authorId: rows.bob.id } } } } },
    })
    await expectFresh(
      (c) => c.comment.findMany({ where: { text: 'gone too' } }),
      () => prisma.user.delete({ where: { id: victim.id } }),
    )
  })

  it('invalidate() drops one model or everything', async () => {
    const read = (c: any) => c.tag.findMany({ orderBy: { id: 'asc' } })
    await read(prisma)
    await bare.tag.update({ where: { id: rows.tags[0].id }, data: { name: 'changed-outside' } }) // a writer the extension cannot see
    expect(await read(prisma)).not.toStrictEqual(await read(bare))
    await prisma.$prefetch.invalidate('Tag')
    expect(await read(prisma)).toStrictEqual(await read(bare))
    await bare.tag.update({ where: { id: rows.tags[0].id }, data: { name: 'changed-again' } })
    await prisma.$prefetch.invalidate()
    expect(await read(prisma)).toStrictEqual(await read(bare))
    await expect(prisma.$prefetch.invalidate('Nope')).rejects.toThrow(/invalidate\(\) needs a model of this client .*"Nope"/)
  })

  it('a write that fails still invalidates, and its error is Prisma’s own', async () => {
    const error = await prisma.user.create({ data: { email: rows.alice.email } }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'P2002' })
    expect(prisma.$prefetch.stats().writes).toBeGreaterThan(0)
  })
})
