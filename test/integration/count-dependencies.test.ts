// A read that counts relations (`_count` in every form, relation filters of count, aggregate and
// groupBy) is cached, a row it counts changes through another path (the child model, a
// many-to-many connect from the other side, a cascade from the parent's parent), and the read
// must then return what the bare client returns on the same database.
import { describe, expect, it } from 'vitest'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const { prisma, bare, spy } = env
const rows = await seed(bare)
const [orm, cache, sql] = rows.tags

// A third author whose posts, comments and tags a cascade removes.
const carol = await bare.user.create({
  data: {
    email: 'carol@example.com',
    posts: {
      create: [
        { title: 'Carol 1', tags: { connect: [{ id: orm.id }, { id: sql.id }] }, comments: { create: [{ text: 'First on Carol', authorId: rows.alice.id }] } },
        { title: 'Carol 2', tags: { connect: [{ id: cache.id }] } },
      ],
    },
    comments: { create: [{ text: 'Carol says', postId: rows.posts[0].id }] },
  },
})

type Read = (client: any) => Promise<unknown>

/** Every form of `_count`, from either side of each relation, and relation filters of the aggregates. */
const reads: Record<string, Read> = {
  'include _count: true': (c) => c.user.findUnique({ where: { id: rows.alice.id }, include: { _count: true } }),
  'select _count: true': (c) => c.user.findMany({ select: { id: true, _count: true }, orderBy: { id: 'asc' } }),
  'select _count: true of a tag (m:n)': (c) => c.tag.findMany({ select: { name: true, _count: true }, orderBy: { id: 'asc' } }),
  'include _count: true of a post': (c) => c.post.findMany({ where: { title: { startsWith: 'Post 1' } }, include: { _count: true }, orderBy: { id: 'asc' } }),
  '_count select with where': (c) =>
    c.user.findMany({
      include: { _count: { select: { posts: true, comments: { where: { text: { startsWith: 'First' } } } } } },
      orderBy: { id: 'asc' },
    }),
  '_count select where with a relation filter': (c) =>
    c.user.findMany({ select: { id: true, _count: { select: { posts: { where: { tags: { some: { name: 'orm' } } } } } } }, orderBy: { id: 'asc' } }),
  '_count of tags from the post side': (c) => c.post.findMany({ select: { id: true, _count: { select: { tags: true } } }, orderBy: { id: 'asc' } }),
  'nested include _count: true (two levels)': (c) =>
    c.profile.findUnique({ where: { userId: rows.alice.id }, include: { user: { include: { _count: true } } } }),
  'nested select _count: true under a list': (c) =>
    c.user.findMany({ select: { id: true, posts: { select: { id: true, _count: true }, orderBy: { id: 'asc' } } }, orderBy: { id: 'asc' } }),
  'nested _count select under an include': (c) =>
    c.comment.findMany({ where: { text: { startsWith: 'Second on 1' } }, include: { post: { include: { _count: { select: { comments: true, tags: true } } } } }, orderBy: { id: 'asc' } }),
  'orderBy a relation _count': (c) => c.user.findMany({ select: { id: true }, orderBy: [{ comments: { _count: 'desc' } }, { id: 'asc' }] }),
  'orderBy a m:n _count': (c) => c.tag.findMany({ select: { id: true }, orderBy: [{ posts: { _count: 'desc' } }, { id: 'asc' }] }),
  'count with a relation filter': (c) => c.user.count({ where: { posts: { some: { tags: { some: { name: 'cache' } } } } } }),
  'aggregate with a relation filter': (c) => c.post.aggregate({ _count: true, where: { comments: { some: { text: { contains: 'new' } } } } }),
  'groupBy with a relation filter': (c) =>
    c.post.groupBy({ by: ['authorId'], _count: true, where: { tags: { some: { name: 'sql' } } }, orderBy: { authorId: 'asc' } }),
}

/**
 * Caches every read (checking the second one is served without reaching the database), runs
 * `write`, and expects every read through the extension to equal the bare client's. Returns
 * the names of the reads the write changed.
 */
async function afterWrite(write: () => Promise<unknown>): Promise<string[]> {
  const before = new Map<string, unknown>()
  for (const [name, read] of Object.entries(reads)) {
    before.set(name, await read(prisma))
    const since = spy.calls.length
    await read(prisma)
    expect(reached(spy.calls, since), `${name} is served from the cache`).toBe(0)
  }
  await write()
  const changed: string[] = []
  for (const [name, read] of Object.entries(reads)) {
    const expected = await read(bare)
    expect(await read(prisma), name).toStrictEqual(expected)
    if (JSON.stringify(expected, (_, v) => (typeof v === 'bigint' ? `${v}` : v)) !== JSON.stringify(before.get(name), (_, v) => (typeof v === 'bigint' ? `${v}` : v))) changed.push(name)
  }
  return changed
}

describe('a read that counts relations depends on every model it counts', () => {
  it('a child created through its own model', async () => {
    const changed = await afterWrite(() => prisma.comment.create({ data: { text: 'new comment', postId: rows.posts[10].id, authorId: rows.alice.id } }))
    expect(changed).toEqual(expect.arrayContaining(['include _count: true', 'select _count: true', 'nested include _count: true (two levels)', 'aggregate with a relation filter']))
  })

  it('a child deleted through its own model', async () => {
    const comment = await bare.comment.findFirstOrThrow({ where: { text: 'First on 12' } })
    const changed = await afterWrite(() => prisma.comment.delete({ where: { id: comment.id } }))
    // Bob's comment on one of Bob's posts
    expect(changed).toEqual(expect.arrayContaining(['select _count: true', 'include _count: true of a post', '_count select with where', 'nested select _count: true under a list', 'nested _count select under an include']))
  })

  it('a many-to-many connect from the other side', async () => {
    const changed = await afterWrite(() => prisma.tag.update({ where: { id: cache.id }, data: { posts: { connect: [{ id: rows.posts[10].id }, { id: rows.posts[12].id }] } } }))
    expect(changed).toEqual(
      expect.arrayContaining(['include _count: true of a post', '_count of tags from the post side', 'select _count: true of a tag (m:n)', 'count with a relation filter']),
    )
  })

  it('a many-to-many disconnect and set from the post side', async () => {
    let changed = await afterWrite(() => prisma.post.update({ where: { id: rows.posts[12].id }, data: { tags: { disconnect: [{ id: cache.id }] } } }))
    expect(changed).toEqual(expect.arrayContaining(['select _count: true of a tag (m:n)', '_count of tags from the post side', 'count with a relation filter']))
    changed = await afterWrite(() => prisma.post.update({ where: { id: rows.posts[1].id }, data: { tags: { set: [{ id: orm.id }, { id: sql.id }] } } }))
    expect(changed).toEqual(expect.arrayContaining(['select _count: true of a tag (m:n)', '_count select where with a relation filter', 'groupBy with a relation filter']))
  })

  it('a child created with a nested write from the other side of a m:n relation', async () => {
    const changed = await afterWrite(() =>
      prisma.tag.update({ where: { id: sql.id }, data: { posts: { create: { title: 'Post 1 tagged', authorId: rows.bob.id } } } }),
    )
    expect(changed).toEqual(expect.arrayContaining(['select _count: true', 'include _count: true of a post', 'groupBy with a relation filter']))
  })

  it('a foreign key moved by updateMany, and m:n links removed by deleting the other side', async () => {
    let changed = await afterWrite(() => prisma.comment.updateMany({ where: { text: { startsWith: 'Second on 1' } }, data: { postId: rows.posts[2].id } }))
    expect(changed).toEqual(expect.arrayContaining(['include _count: true of a post', 'nested select _count: true under a list', 'nested _count select under an include']))
    const doomed = await prisma.tag.create({ data: { name: 'doomed', posts: { connect: [{ id: rows.posts[10].id }, { id: rows.posts[11].id }] } } })
    changed = await afterWrite(() => prisma.tag.deleteMany({ where: { id: doomed.id } }))
    expect(changed).toEqual(expect.arrayContaining(['include _count: true of a post', '_count of tags from the post side']))
  })

  it('a cascade from the parent of the parent', async () => {
    // Deleting Carol deletes her posts (and so their tag links) and every comment on them,
    // Alice's included, and her own comment on a post of Alice's.
    const changed = await afterWrite(() => prisma.user.delete({ where: { id: carol.id } }))
    expect(changed).toEqual(
      expect.arrayContaining([
        'include _count: true',
        'select _count: true of a tag (m:n)',
        '_count select with where',
        'nested include _count: true (two levels)',
        'orderBy a relation _count',
        'groupBy with a relation filter',
      ]),
    )
  })
})
