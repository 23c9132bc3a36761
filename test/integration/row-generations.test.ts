import { afterAll, describe, expect, it } from 'vitest'
import { redisStores } from '../support/stores.ts'
import { describeWith, redis } from '../support/services.ts'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

// Row generations: a write ends the cached reads of the rows it changed (and its models' lists),
// and leaves every other row read of the model served from the cache.
const env = await setup({ learn: false })
const { prisma, bare, spy } = env
const rows = await seed(bare)

let n = 0
const unique = (what: string) => `${what}-${++n}-${Math.random().toString(36).slice(2, 8)}`

/** Reads `read` through the client under test and says how many queries reached the database. */
async function queried(read: () => Promise<unknown>, calls: ReadonlyArray<{ operation: string }> = spy.calls): Promise<{ value: unknown; queries: number }> {
  const before = calls.length
  const value = await read()
  return { value, queries: reached(calls, before) }
}

async function twoPosts() {
  const a = await bare.post.create({ data: { title: unique('a'), authorId: rows.alice.id } })
  const b = await bare.post.create({ data: { title: unique('b'), authorId: rows.alice.id } })
  return [a, b]
}

const postById = (client: any, id: number) => client.post.findUnique({ where: { id }, select: { id: true, title: true } })
const userById = (client: any, id: number) => client.user.findUnique({ where: { id }, select: { id: true, email: true, name: true, mentorId: true } })
const userByEmail = (client: any, email: string) => client.user.findUnique({ where: { email }, select: { id: true, email: true, name: true } })

describe('a write ends the reads of the rows it changed, not of its whole model', () => {
  it('an update of row A leaves a cached read of row B served; the read of A goes to the database', async () => {
    const [a, b] = await twoPosts()
    await postById(prisma, a.id)
    await postById(prisma, b.id)
    const title = unique('new')
    await prisma.post.update({ where: { id: a.id }, data: { title } })
    const otherRow = await queried(() => postById(prisma, b.id))
    expect(otherRow).toStrictEqual({ value: { id: b.id, title: b.title }, queries: 0 })
    const writtenRow = await queried(() => postById(prisma, a.id))
    expect(writtenRow).toStrictEqual({ value: { id: a.id, title }, queries: 1 })
  })

  it('a list, a count and an aggregate of the model see the update of one row', async () => {
    const [a] = await twoPosts()
    const list = (c: any) => c.post.findMany({ where: { authorId: rows.alice.id }, orderBy: { id: 'asc' }, select: { id: true, title: true } })
    const count = (c: any) => c.post.count({ where: { title: { startsWith: 'renamed' } } })
    const aggregate = (c: any) => c.post.aggregate({ _max: { title: true } })
    for (const read of [list, count, aggregate]) await read(prisma)
    await prisma.post.update({ where: { id: a.id }, data: { title: unique('renamed') } })
    for (const read of [list, count, aggregate]) expect(await read(prisma)).toStrictEqual(await read(bare))
  })

  it('an update by email ends a cached read of the same row by id, and one by id a read by email', async () => {
    const user = await bare.user.create({ data: { email: `${unique('u')}@example.com` } })
    const other = await bare.user.create({ data: { email: `${unique('u')}@example.com` } })
    await userById(prisma, user.id)
    await userByEmail(prisma, user.email)
    await userById(prisma, other.id)
    await prisma.user.update({ where: { email: user.email }, data: { name: 'by email' } })
    expect(await userById(prisma, user.id)).toStrictEqual({ id: user.id, email: user.email, name: 'by email', mentorId: null })
    expect(await queried(() => userById(prisma, other.id))).toMatchObject({ queries: 0 })
    await userByEmail(prisma, user.email)
    await prisma.user.update({ where: { id: user.id }, data: { name: 'by id' } })
    expect(await userByEmail(prisma, user.email)).toStrictEqual({ id: user.id, email: user.email, name: 'by id' })
  })

  it('an update that changes the email ends the read by the old email and by the new one', async () => {
    const user = await bare.user.create({ data: { email: `${unique('u')}@example.com` } })
    const renamed = `${unique('renamed')}@example.com`
    await userByEmail(prisma, user.email)
    expect(await userByEmail(prisma, renamed)).toBeNull() // a cached null
    await prisma.user.update({ where: { id: user.id }, data: { email: renamed } })
    expect(await userByEmail(prisma, user.email)).toBeNull()
    expect(await userByEmail(prisma, renamed)).toStrictEqual({ id: user.id, email: renamed, name: null })
  })

  it('a create ends a cached null of the new row, by either unique field', async () => {
    const email = `${unique('new')}@example.com`
    await userById(prisma, rows.bob.id)
    expect(await userByEmail(prisma, email)).toBeNull()
    const nextId = ((await bare.user.aggregate({ _max: { id: true } }))._max.id ?? 0) + 1
    expect(await userById(prisma, nextId)).toBeNull()
    const created = await prisma.user.create({ data: { email } })
    expect(created.id).toBe(nextId)
    expect(await userByEmail(prisma, email)).toStrictEqual({ id: created.id, email, name: null })
    expect(await userById(prisma, created.id)).toStrictEqual({ id: created.id, email, name: null, mentorId: null })
    expect(await queried(() => userById(prisma, rows.bob.id))).toMatchObject({ queries: 0 })
  })

  it('an upsert that creates a row other than its where names ends the read of the row it created', async () => {
    const asked = `${unique('asked')}@example.com`
    const made = `${unique('made')}@example.com`
    await userById(prisma, rows.bob.id)
    expect(await userByEmail(prisma, made)).toBeNull()
    await prisma.user.upsert({ where: { email: asked }, create: { email: made }, update: {} })
    expect(await userByEmail(prisma, made)).toMatchObject({ email: made })
    expect(await queried(() => userById(prisma, rows.bob.id))).toMatchObject({ queries: 0 })
  })

  it('updateMany with a filter ends every row read of the model', async () => {
    const [a, b] = await twoPosts()
    await postById(prisma, a.id)
    await postById(prisma, b.id)
    await prisma.post.updateMany({ where: { id: { in: [a.id, b.id] } }, data: { title: 'many' } })
    expect(await postById(prisma, a.id)).toStrictEqual({ id: a.id, title: 'many' })
    expect(await postById(prisma, b.id)).toStrictEqual({ id: b.id, title: 'many' })
  })

  it('updateManyAndReturn ends the reads of the rows it returned, and only those', async () => {
    const [a, b] = await twoPosts()
    await postById(prisma, a.id)
    await postById(prisma, b.id)
    await prisma.post.updateManyAndReturn({ where: { title: a.title }, data: { title: 'returned' } })
    expect(await postById(prisma, a.id)).toStrictEqual({ id: a.id, title: 'returned' })
    expect(await queried(() => postById(prisma, b.id))).toMatchObject({ queries: 0 })
  })

  it('a delete by id ends the read of the deleted row and leaves the others served', async () => {
    const [a, b] = await twoPosts()
    await postById(prisma, a.id)
    await postById(prisma, b.id)
    await prisma.post.delete({ where: { id: a.id } })
    expect(await postById(prisma, a.id)).toBeNull()
    expect(await queried(() => postById(prisma, b.id))).toMatchObject({ queries: 0 })
  })

  it('a nested update by unique ends the read of the nested row and leaves its siblings served', async () => {
    const [a, b] = await twoPosts()
    await postById(prisma, a.id)
    await postById(prisma, b.id)
    await prisma.user.update({ where: { id: rows.alice.id }, data: { posts: { update: { where: { id: a.id }, data: { title: 'nested' } } } } })
    expect(await postById(prisma, a.id)).toStrictEqual({ id: a.id, title: 'nested' })
    expect(await queried(() => postById(prisma, b.id))).toMatchObject({ queries: 0 })
  })

  it('a nested create and a nested delete by unique are seen by the rows they change', async () => {
    const [a] = await twoPosts()
    await postById(prisma, a.id)
    const nextId = ((await bare.post.aggregate({ _max: { id: true } }))._max.id ?? 0) + 1
    expect(await postById(prisma, nextId)).toBeNull()
    await prisma.user.update({ where: { id: rows.alice.id }, data: { posts: { create: { title: 'nested create' }, delete: { id: a.id } } } })
    expect(await postById(prisma, a.id)).toBeNull()
    expect(await postById(prisma, nextId)).toStrictEqual({ id: nextId, title: 'nested create' })
  })

  it('a cascade delete ends the reads of the rows it deleted', async () => {
    const author = await bare.user.create({ data: { email: `${unique('author')}@example.com` } })
    const post = await bare.post.create({ data: { title: unique('doomed'), authorId: author.id } })
    const profile = await bare.profile.create({ data: { userId: author.id, bio: 'soon gone' } })
    await postById(prisma, post.id)
    const profileByUser = (c: any) => c.profile.findUnique({ where: { userId: author.id } })
    expect(await profileByUser(prisma)).toStrictEqual(profile)
    await prisma.user.delete({ where: { id: author.id } })
    expect(await postById(prisma, post.id)).toBeNull()
    expect(await profileByUser(prisma)).toBeNull()
  })

  it('a delete whose referential action sets a foreign key of the same model to null ends the reads of those rows', async () => {
    const mentor = await bare.user.create({ data: { email: `${unique('mentor')}@example.com` } })
    const mentee = await bare.user.create({ data: { email: `${unique('mentee')}@example.com`, mentorId: mentor.id } })
    expect(await userById(prisma, mentee.id)).toMatchObject({ mentorId: mentor.id })
    await prisma.user.delete({ where: { id: mentor.id } })
    expect(await userById(prisma, mentee.id)).toMatchObject({ mentorId: null })
  })

  it('raw SQL ends every row read', async () => {
    const [a] = await twoPosts()
    await postById(prisma, a.id)
    await prisma.$executeRawUnsafe(`UPDATE "Post" SET title = 'raw' WHERE id = ${a.id}`)
    expect(await postById(prisma, a.id)).toStrictEqual({ id: a.id, title: 'raw' })
  })

  it('a read that includes a relation depends on the related model as a whole', async () => {
    const [a, b] = await twoPosts()
    const withComments = (c: any) => c.post.findUnique({ where: { id: b.id }, include: { comments: { orderBy: { id: 'asc' } } } })
    await withComments(prisma)
    await prisma.comment.create({ data: { text: 'late', postId: b.id, authorId: rows.bob.id } })
    expect(await withComments(prisma)).toStrictEqual(await withComments(bare))
    await prisma.post.update({ where: { id: a.id }, data: { title: unique('sibling') } })
    expect(await queried(() => withComments(prisma))).toMatchObject({ queries: 0 })
  })
})

describe('rows taken from a list are kept under their own row’s generation', () => {
  const listOf = (client: any, authorId: number) => client.post.findMany({ where: { authorId }, orderBy: { id: 'asc' }, select: { id: true, title: true } })

  it('a row a cached list answered outlives a write to another row of the list; a write to its own row ends it', async () => {
    const author = await bare.user.create({ data: { email: `${unique('lister')}@example.com` } })
    const posts = await Promise.all([0, 1, 2].map(() => bare.post.create({ data: { title: unique('listed'), authorId: author.id } })))
    const { prisma: client, spy: calls } = await env.client({ learn: false })
    await listOf(client, author.id)
    // Answered from the list, with no query of its own.
    expect(await queried(() => postById(client, posts[0].id), calls.calls)).toStrictEqual({ value: { id: posts[0].id, title: posts[0].title }, queries: 0 })
    // A write to another row ends the list (the list reads every row), not the row it answered.
    await client.post.update({ where: { id: posts[1].id }, data: { views: { increment: 1 } } })
    expect(await queried(() => postById(client, posts[0].id), calls.calls)).toStrictEqual({ value: { id: posts[0].id, title: posts[0].title }, queries: 0 })
    expect(await queried(() => listOf(client, author.id), calls.calls)).toMatchObject({ queries: 1 })
    // A write to the row itself ends it.
    await client.post.update({ where: { id: posts[0].id }, data: { title: 'retitled' } })
    expect(await queried(() => postById(client, posts[0].id), calls.calls)).toStrictEqual({ value: { id: posts[0].id, title: 'retitled' }, queries: 1 })
  })

  it('a row of a list that a write has outdated is neither answered nor kept', async () => {
    const author = await bare.user.create({ data: { email: `${unique('lister')}@example.com` } })
    const [post] = await Promise.all([0, 1].map(() => bare.post.create({ data: { title: unique('listed'), authorId: author.id } })))
    const { prisma: client, spy: calls } = await env.client({ learn: false })
    await listOf(client, author.id)
    await client.post.update({ where: { id: post.id }, data: { title: 'changed' } })
    expect(await queried(() => postById(client, post.id), calls.calls)).toStrictEqual({ value: { id: post.id, title: 'changed' }, queries: 1 })
  })

  it('rows a fan-out kept from a list at hand outlive a write to another row of their model', async () => {
    const people = await Promise.all([0, 1, 2, 3].map(() => bare.user.create({ data: { email: `${unique('person')}@example.com`, name: 'P' } })))
    const ids = people.map((p) => p.id)
    const some = { where: { id: { in: ids } }, orderBy: { id: 'asc' as const } }
    const learning = await env.client({})
    for (let s = 0; s < 8; s++) {
      await learning.prisma.$prefetch.session(`people-${s}`, async () => {
        const users = await learning.prisma.user.findMany(some)
        await learning.prisma.user.findUnique({ where: { id: users[s % users.length].id } })
      })
    }
    await learning.prisma.$prefetch.idle()
    await learning.prisma.$prefetch.invalidate()
    await learning.prisma.$prefetch.session('people-new', async () => {
      await learning.prisma.user.findMany(some)
      await learning.prisma.$prefetch.idle()
    })
    expect(learning.prisma.$prefetch.stats().byStrategy.fanOut).toMatchObject({ completed: 1 })
    // Another user (not in the list) is written: the list ends, the rows kept from it do not.
    await learning.prisma.user.update({ where: { id: rows.bob.id }, data: { name: unique('bob') } })
    const before = learning.spy.calls.length
    for (const id of ids.slice(1)) expect(await learning.prisma.user.findUnique({ where: { id } })).toStrictEqual(await bare.user.findUnique({ where: { id } }))
    expect(reached(learning.spy.calls, before)).toBe(0)
    // One of them written: its read goes to the database and sees the write.
    await learning.prisma.user.update({ where: { id: ids[0] }, data: { name: 'renamed' } })
    expect(await queried(() => learning.prisma.user.findUnique({ where: { id: ids[0] } }), learning.spy.calls)).toMatchObject({ value: { name: 'renamed' }, queries: 1 })
  })
})

describe('a list of rows named by a unique field depends on those rows alone', () => {
  const postsIn = (client: any, ids: number[], extra: object = {}) => client.post.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' }, select: { id: true, title: true }, ...extra })
  const usersIn = (client: any, emails: string[]) => client.user.findMany({ where: { email: { in: emails } }, orderBy: { email: 'asc' }, select: { id: true, email: true, name: true } })

  it('a write to a row it does not name leaves it served; a write to one it names ends it', async () => {
    const [a, b] = await twoPosts()
    const [c] = await twoPosts()
    await postsIn(prisma, [a.id, b.id])
    await prisma.post.update({ where: { id: c.id }, data: { title: unique('other') } })
    expect(await queried(() => postsIn(prisma, [a.id, b.id]))).toStrictEqual({ value: [{ id: a.id, title: a.title }, { id: b.id, title: b.title }], queries: 0 })
    const title = unique('named')
    await prisma.post.update({ where: { id: b.id }, data: { title } })
    expect(await queried(() => postsIn(prisma, [a.id, b.id]))).toStrictEqual({ value: [{ id: a.id, title: a.title }, { id: b.id, title }], queries: 1 })
  })

  it('a row created under a value it names, or moved to one, ends it', async () => {
    const [first, second] = [`${unique('in')}@example.com`, `${unique('in')}@example.com`]
    const existing = await bare.user.create({ data: { email: first } })
    expect(await usersIn(prisma, [first, second])).toHaveLength(1)
    const created = await prisma.user.create({ data: { email: second } })
    expect(await queried(() => usersIn(prisma, [first, second]))).toMatchObject({ value: [{ id: existing.id }, { id: created.id }], queries: 1 })
    const third = `${unique('in')}@example.com`
    const mover = await bare.user.create({ data: { email: `${unique('mover')}@example.com` } })
    expect(await usersIn(prisma, [first, third])).toHaveLength(1)
    await prisma.user.update({ where: { id: mover.id }, data: { email: third } })
    expect(await queried(() => usersIn(prisma, [first, third]))).toMatchObject({ value: [{ id: existing.id }, { id: mover.id }], queries: 1 })
  })

  it('a write by filter, a write to a related model it includes, and a list longer than the bound end it', async () => {
    const [a, b] = await twoPosts()
    await postsIn(prisma, [a.id, b.id])
    await prisma.post.updateMany({ where: { title: unique('nothing-matches') }, data: { views: 1 } })
    expect(await queried(() => postsIn(prisma, [a.id, b.id]))).toMatchObject({ queries: 1 })

    const withAuthor = { select: { id: true, author: { select: { name: true } } } }
    await postsIn(prisma, [a.id], withAuthor)
    await prisma.user.update({ where: { id: rows.alice.id }, data: { name: unique('alice') } })
    expect(await queried(() => postsIn(prisma, [a.id], withAuthor))).toStrictEqual({ value: await postsIn(bare, [a.id], withAuthor), queries: 1 })

    const [c] = await twoPosts()
    const many = [a.id, ...Array.from({ length: 40 }, (_, i) => 1_000_000 + i)]
    await postsIn(prisma, many)
    await prisma.post.update({ where: { id: c.id }, data: { title: unique('elsewhere') } })
    expect(await queried(() => postsIn(prisma, many))).toMatchObject({ queries: 1 })
  })
})

describe('maxRowGenerations', () => {
  it('bounds the row generations held; forgetting one ends the row reads of its model, never serves a stale one', async () => {
    const small = await env.client({ learn: false, maxRowGenerations: 2 })
    const posts = await Promise.all([0, 1, 2, 3].map(() => bare.post.create({ data: { title: unique('p'), authorId: rows.bob.id } })))
    await postById(small.prisma, posts[0].id) // cached while its row was never written
    await postById(small.prisma, posts[3].id)
    await small.prisma.post.update({ where: { id: posts[0].id }, data: { title: 'first write' } })
    await small.prisma.post.update({ where: { id: posts[1].id }, data: { title: 'second' } })
    // Two rows written, within the bound: the read of an unwritten row is still served.
    expect(await queried(() => postById(small.prisma, posts[3].id), small.spy.calls)).toMatchObject({ queries: 0 })
    // A third: the first row's generation is forgotten. Had it been dropped alone, the row would
    // read as never written again and its entry of before the write would be served.
    await small.prisma.post.update({ where: { id: posts[2].id }, data: { title: 'third' } })
    expect(await postById(small.prisma, posts[0].id)).toStrictEqual({ id: posts[0].id, title: 'first write' })
    expect(await queried(() => postById(small.prisma, posts[3].id), small.spy.calls)).toMatchObject({ queries: 1 })
  })
})

describeWith(await redis(), 'Redis', () => {
  describe('two clients sharing a Redis store', () => {
    const stores = redisStores()
    const closers: Array<() => Promise<void>> = []
    afterAll(async () => {
      for (const close of closers) await close()
    })
    async function pair(options: Record<string, unknown> = {}) {
      const one = stores.make()
      const two = stores.make()
      closers.push(one.close, two.close)
      return [await env.client({ learn: false, cache: one.store, ...options }), await env.client({ learn: false, cache: two.store, ...options })] as const
    }

    it('a write through one ends the other’s read of that row, and only of that row', async () => {
      const [one, two] = await pair()
      const [a, b] = await twoPosts()
      for (const client of [one, two]) {
        await postById(client.prisma, a.id)
        await postById(client.prisma, b.id)
      }
      await one.prisma.post.update({ where: { id: a.id }, data: { title: 'from one' } })
      expect(await queried(() => postById(two.prisma, b.id), two.spy.calls)).toMatchObject({ queries: 0 })
      expect(await queried(() => postById(two.prisma, a.id), two.spy.calls)).toStrictEqual({ value: { id: a.id, title: 'from one' }, queries: 1 })
    })

    it('a write by email through one ends the other’s read by id', async () => {
      const [one, two] = await pair()
      const user = await bare.user.create({ data: { email: `${unique('shared')}@example.com` } })
      await userById(two.prisma, user.id)
      await one.prisma.user.update({ where: { email: user.email }, data: { name: 'shared' } })
      expect(await userById(two.prisma, user.id)).toMatchObject({ name: 'shared' })
    })

    it('updateMany through one ends every row read of the model in the other', async () => {
      const [one, two] = await pair()
      const [a] = await twoPosts()
      await postById(two.prisma, a.id)
      await one.prisma.post.updateMany({ where: { id: a.id }, data: { title: 'many, shared' } })
      expect(await postById(two.prisma, a.id)).toStrictEqual({ id: a.id, title: 'many, shared' })
    })

    it('holds a token only for rows written, with a ttl', async () => {
      const [one] = await pair()
      const [a, b] = await twoPosts()
      await postById(one.prisma, a.id)
      await postById(one.prisma, b.id)
      await one.prisma.post.update({ where: { id: a.id }, data: { title: 'token' } })
      const store = stores.make()
      closers.push(store.close)
      const key = (id: number) => `prisma-prefetch:gen:Post#id=${id}`
      const written = await store.store.getRaw(key(a.id))
      expect(typeof written?.value).toBe('string')
      expect(written?.expires).toBeGreaterThan(Date.now() + 60_000)
      expect(await store.store.get(key(b.id))).toBeUndefined()
    })
  })
})
