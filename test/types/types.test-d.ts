import { describe, expectTypeOf, it } from 'vitest'
import type { Prisma, PrismaClient } from '../../src/generated/prisma/client.ts'
import { prefetch, rule, rulesFor, type ModelName, type PrefetchStats, type ReadName } from '../../src/index.ts'

/**
 * Type tests (run by `vitest --typecheck`, and by `npm run typecheck`): names of models and reads
 * are checked against the user's own client, rule argument functions see that client's types,
 * and the extended client keeps every model's types.
 */
declare const base: PrismaClient
const prisma = base.$extends(prefetch<PrismaClient>())

describe('model and read names come from the client', () => {
  it('lists its models', () => {
    expectTypeOf<ModelName<PrismaClient>>().toEqualTypeOf<
      'User' | 'Profile' | 'Post' | 'Comment' | 'Tag' | 'Follow' | 'Vote' | 'Subscription' | 'AuditLog'
    >()
    expectTypeOf<'Post.findMany'>().toExtend<ReadName<PrismaClient>>()
    expectTypeOf<'Post.create'>().not.toExtend<ReadName<PrismaClient>>()
    // Without a client type, any name goes (checked at run time instead).
    expectTypeOf<ModelName>().toEqualTypeOf<string>()
  })

  it('checks the keys of models', () => {
    prefetch<PrismaClient>({ models: { User: { ttl: 5000 }, Post: false } })
    // @ts-expect-error: no model Usr
    prefetch<PrismaClient>({ models: { Usr: false } })
    prefetch({ models: { Anything: false } })
  })
})

describe('typed rules', () => {
  const typed = rulesFor<PrismaClient>()

  it('take reads of the client only', () => {
    typed('User.findUnique').then('Post.findMany', () => ({ where: { authorId: 1 } }))
    // @ts-expect-error: no model Usr
    typed('Usr.findUnique')
    // @ts-expect-error: writes cannot be rule ends
    typed('User.deleteMany')
    // @ts-expect-error: not a field of Post's where
    typed('User.findUnique').then('Post.findMany', () => ({ where: { authorIdd: 1 } }))
  })

  it("give the argument function the completed read's types", () => {
    typed('User.findUnique').then('Post.findMany', ({ args, result }) => {
      expectTypeOf(args.where).toEqualTypeOf<Prisma.UserWhereUniqueInput>()
      expectTypeOf(result).toExtend<{ id: number; email: string } | null>()
      return result && { where: { authorId: result.id } }
    })
  })

  it('stay loose without a client type', () => {
    rule('User.findUnique').then('Post.findMany', ({ result }) => ({ where: { authorId: result.id } }))
  })
})

describe('the extended client', () => {
  it("keeps every model's types", async () => {
    const user = await prisma.user.findUnique({ where: { id: 1 }, select: { email: true } })
    expectTypeOf(user).toEqualTypeOf<{ email: string } | null>()
    const posts = await prisma.post.findMany({ include: { tags: true } })
    expectTypeOf(posts[0].tags[0].name).toEqualTypeOf<string>()
    expectTypeOf(prisma.$prefetch.stats()).toEqualTypeOf<PrefetchStats>()
    const session = prisma.$prefetch.forSession<typeof prisma>('s1')
    expectTypeOf(await session.user.count()).toEqualTypeOf<number>()
  })
})

describe('sessions', () => {
  it('take string, number and bigint ids, and a user id that may be missing', () => {
    const user = undefined as { id: number } | undefined
    prisma.$prefetch.session('sid', () => 1, { userId: user?.id })
    prisma.$prefetch.session(7, () => 1, { userId: 7n })
    prisma.$prefetch.forSession<typeof prisma>(7n, { userId: null })
    // @ts-expect-error: an object is no id
    prisma.$prefetch.session({ id: 1 }, () => 1)
  })

  it('forSession() keeps what extensions applied after prefetch() add', async () => {
    const extended = prisma.$extends({
      result: { user: { shout: { needs: { email: true }, compute: (user) => user.email.toUpperCase() } } },
      model: { user: { hello: () => 'hello' as const } },
    })
    const db = extended.$prefetch.forSession<typeof extended>('s1')
    expectTypeOf(db.user.hello()).toEqualTypeOf<'hello'>()
    const user = await db.user.findFirstOrThrow()
    expectTypeOf(user.shout).toEqualTypeOf<string>()
  })
})

describe('a session client', () => {
  it('is typed after the client $forSession() is called on, with every extension applied after prefetch()', async () => {
    expectTypeOf(prisma.$forSession('s1')).toEqualTypeOf<typeof prisma>()
    expectTypeOf(await prisma.$forSession(7, { userId: 3 }).user.count()).toEqualTypeOf<number>()
    const extended = prisma.$extends({
      result: { user: { shout: { needs: { email: true }, compute: (user) => user.email.toUpperCase() } } },
      model: { user: { hello: () => 'hello' as const } },
    })
    const db = extended.$forSession('s1')
    expectTypeOf(db).toEqualTypeOf<typeof extended>()
    expectTypeOf(db.user.hello()).toEqualTypeOf<'hello'>()
    expectTypeOf((await db.user.findFirstOrThrow()).shout).toEqualTypeOf<string>()
  })

  it('from $prefetch.forSession() without a type argument is no silent any: it names the fix', () => {
    const untyped = prisma.$prefetch.forSession('s1')
    // @ts-expect-error: no model on it until its type is named
    void untyped.user
    expectTypeOf(untyped).not.toBeAny()
    expectTypeOf(prisma.$prefetch.forSession<typeof prisma>('s1')).toEqualTypeOf<typeof prisma>()
  })
})

describe('$transaction on the extended client', () => {
  it('keeps Prisma’s own types, for a callback and for a batch', async () => {
    const count = await prisma.$transaction(async (tx) => tx.user.count())
    expectTypeOf(count).toEqualTypeOf<number>()
    const [users, posts] = await prisma.$transaction([prisma.user.findMany(), prisma.post.count()])
    expectTypeOf(users[0].email).toEqualTypeOf<string>()
    expectTypeOf(posts).toEqualTypeOf<number>()
  })
})
