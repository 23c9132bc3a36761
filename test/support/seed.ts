import { Decimal } from '@prisma/client-runtime-utils'

/** Rows with every scalar type of the test schema, including the awkward values. */
export async function seed(prisma: any) {
  const alice = await prisma.user.create({
    data: {
      email: 'alice@example.com',
      name: 'Alice',
      role: 'ADMIN',
      karma: 9_007_199_254_740_993n,
      balance: new Decimal('12345678901234.123456789'),
      rating: 4.75,
      avatar: new Uint8Array([0, 1, 2, 254, 255]),
      settings: { theme: 'dark', nested: { list: [1, 'two', null, { deep: true }] }, date: '2024-01-01T00:00:00.000Z' },
      createdAt: new Date('2020-02-29T12:34:56.789Z'),
      profile: { create: { bio: 'Writes things', birthday: new Date('1990-05-17T00:00:00.000Z') } },
    },
  })
  const bob = await prisma.user.create({
    data: { email: 'bob@example.com', name: null, karma: -5n, balance: new Decimal('-0.5'), rating: -0.25, settings: [1, 2, 3] },
  })
  const tags = []
  for (const name of ['orm', 'cache', 'sql']) tags.push(await prisma.tag.create({ data: { name } }))
  const posts = []
  for (let i = 0; i < 25; i++) {
    posts.push(
      await prisma.post.create({
        data: {
          title: `Post ${i}`,
          body: i % 3 === 0 ? null : `Body of post ${i}`,
          published: i % 2 === 0,
          views: BigInt(i) * 1_000_000_000_000n,
          price: i % 4 === 0 ? null : new Decimal(`${i}.99`),
          score: i % 5 === 0 ? null : i / 7,
          meta: i % 2 === 0 ? { index: i, tags: ['a', 'b'] } : null,
          cover: i % 6 === 0 ? new Uint8Array([i, i + 1]) : null,
          authorId: i % 3 === 0 ? bob.id : alice.id,
          tags: { connect: [{ id: tags[i % 3].id }] },
          comments: { create: [{ text: `First on ${i}`, authorId: bob.id }, { text: `Second on ${i}`, authorId: alice.id }] },
        },
      }),
    )
  }
  return { alice, bob, tags, posts }
}
