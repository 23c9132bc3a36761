import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { describe, expect, it } from 'vitest'
import { PrismaClient } from '../../src/generated/prisma/client.ts'
import { classify, readDependencies, writeTargets } from '../../src/middleware/classify.ts'
import { describeSchema } from '../../src/middleware/schema.ts'

// The schema of the real generated test client (never connected: nothing here queries).
const schema = describeSchema(new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: ':memory:' }) }))
const sorted = (set: Iterable<string>) => [...set].sort()

describe('describeSchema', () => {
  it('reads models, relation fields and foreign-key sides', () => {
    expect(sorted(schema.models)).toEqual(['AuditLog', 'Comment', 'Follow', 'Post', 'Profile', 'Subscription', 'Tag', 'User', 'Vote'])
    expect(Object.fromEntries(schema.relations.get('Post')!)).toEqual({ author: 'User', comments: 'Comment', tags: 'Tag', votes: 'Vote' })
    expect(schema.referencedBy.get('User')).toEqual(
      expect.arrayContaining([
        { model: 'Profile', fields: ['id'] },
        { model: 'Post', fields: ['id'] },
        { model: 'Comment', fields: ['id'] },
        // the self-relation, and a relation on a unique field that is not the id
        { model: 'User', fields: ['id'] },
        { model: 'Subscription', fields: ['email'] },
      ]),
    )
    expect(schema.referencedBy.get('Comment')).toEqual([])
  })

  it('reads field modifiers, unique selectors and what _count: true counts', () => {
    expect(schema.fields.get('User')!.get('name')).toEqual({ kind: 'scalar', type: 'String', list: false, optional: true })
    expect(schema.fields.get('User')!.get('posts')).toEqual({ kind: 'object', type: 'Post', list: true, optional: false })
    expect(schema.fields.get('User')!.get('profile')).toEqual({ kind: 'object', type: 'Profile', list: false, optional: true })
    expect(schema.uniqueSelectors.get('User')).toEqual([
      { name: 'id', fields: ['id'] },
      { name: 'email', fields: ['email'] },
    ])
    expect(sorted(schema.counted.get('User')!)).toEqual(['Comment', 'Follow', 'Post', 'Subscription', 'User', 'Vote'])
    expect(schema.counted.get('Profile')).toEqual([])
  })

  it('reads compound unique selectors and list modifiers from the schema text', () => {
    const inlineSchema = [
      'model Pair {',
      '  a    Int',
      '  b    String',
      '  c    String? // a comment @unique',
      '  tags Tag[]',
      '  @@id([a, b])',
      '  @@unique([b(sort: Desc), c], name: "bc", map: "pair_bc")',
      '}',
      'model Tag {',
      '  id    Int    @id',
      '  pairs Pair[]',
      '}',
    ].join('\n')
    const runtime = {
      Pair: { fields: [{ name: 'a', kind: 'scalar', type: 'Int' }, { name: 'b', kind: 'scalar', type: 'String' }, { name: 'c', kind: 'scalar', type: 'String' }, { name: 'tags', kind: 'object', type: 'Tag', relationName: 'PairToTag' }] },
      Tag: { fields: [{ name: 'id', kind: 'scalar', type: 'Int' }, { name: 'pairs', kind: 'object', type: 'Pair', relationName: 'PairToTag' }] },
    }
    const info = describeSchema({ _runtimeDataModel: { models: runtime }, _engineConfig: { inlineSchema } })
    expect(info.uniqueSelectors.get('Pair')).toEqual([
      { name: 'a_b', fields: ['a', 'b'] },
      { name: 'bc', fields: ['b', 'c'] },
    ])
    expect(info.fields.get('Pair')!.get('c')).toEqual({ kind: 'scalar', type: 'String', list: false, optional: true })
    expect(info.counted.get('Pair')).toEqual(['Tag'])
    // Without the schema text nothing is known of modifiers: _count: true counts every relation.
    const bare = describeSchema({ _runtimeDataModel: { models: runtime } })
    expect(bare.uniqueSelectors.get('Pair')).toBeUndefined()
    expect(bare.fields.get('Pair')!.get('tags')!.list).toBeUndefined()
    expect(bare.counted.get('Pair')).toEqual(['Tag'])
  })

  it('refuses something that is not a Prisma client', () => {
    expect(() => describeSchema({})).toThrow(/no runtime data model/)
  })
})

describe('classify', () => {
  it('sorts operations into reads, writes and raw', () => {
    for (const op of ['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate', 'groupBy']) {
      expect(classify('User', op)).toBe('read')
    }
    for (const op of ['create', 'createMany', 'createManyAndReturn', 'update', 'updateMany', 'updateManyAndReturn', 'upsert', 'delete', 'deleteMany']) {
      expect(classify('User', op)).toBe('write')
    }
    expect(classify(undefined, '$queryRaw')).toBe('raw')
    expect(classify(undefined, '$executeRawUnsafe')).toBe('raw')
    // an operation this version does not know is treated as the most dangerous kind
    expect(classify('User', 'someFutureOperation')).toBe('raw')
  })
})

describe('readDependencies', () => {
  it('reads the models of arguments whose getter reads the models of other arguments meanwhile', () => {
    let inner: string[] = []
    const args = {
      include: {
        get posts() {
          inner = readDependencies(schema, 'Post', { include: { tags: true } })
          return true
        },
      },
    }
    expect(readDependencies(schema, 'User', args)).toEqual(['Post', 'User'])
    expect(inner).toEqual(['Post', 'Tag'])
    expect(readDependencies(schema, 'User', { include: { _count: true } })).toEqual(['Comment', 'Follow', 'Post', 'Subscription', 'User', 'Vote'])
  })

  it('is the model alone for a plain read', () => {
    expect(readDependencies(schema, 'User', { where: { id: 1 } })).toEqual(['User'])
  })
  it('follows include and select, nested', () => {
    expect(readDependencies(schema, 'User', { include: { posts: { include: { tags: true } } } })).toEqual(['Post', 'Tag', 'User'])
    expect(readDependencies(schema, 'Post', { select: { id: true, author: { select: { profile: true } } } })).toEqual([
      'Post',
      'Profile',
      'User',
    ])
  })
  it('follows _count selections', () => {
    expect(readDependencies(schema, 'User', { select: { _count: { select: { comments: true } } } })).toEqual(['Comment', 'User'])
  })
  it('counts every list relation for _count: true, in select and include, nested', () => {
    expect(readDependencies(schema, 'User', { include: { _count: true } })).toEqual(['Comment', 'Follow', 'Post', 'Subscription', 'User', 'Vote'])
    expect(readDependencies(schema, 'User', { select: { id: true, _count: true } })).toEqual(['Comment', 'Follow', 'Post', 'Subscription', 'User', 'Vote'])
    expect(readDependencies(schema, 'Post', { include: { _count: true } })).toEqual(['Comment', 'Post', 'Tag', 'Vote'])
    expect(readDependencies(schema, 'Tag', { select: { _count: true } })).toEqual(['Post', 'Tag'])
    // a to-one relation (Profile.user, User.profile) is never counted
    expect(readDependencies(schema, 'Profile', { include: { _count: true } })).toEqual(['Profile'])
    expect(readDependencies(schema, 'Profile', { include: { user: { include: { _count: true } } } })).toEqual([
      'Comment',
      'Follow',
      'Post',
      'Profile',
      'Subscription',
      'User',
      'Vote',
    ])
    expect(readDependencies(schema, 'Comment', { select: { post: { select: { _count: true } } } })).toEqual(['Comment', 'Post', 'Tag', 'Vote'])
    expect(readDependencies(schema, 'User', { include: { posts: { include: { _count: true } } } })).toEqual(['Comment', 'Post', 'Tag', 'User', 'Vote'])
  })
  it('counts what a _count select names, with relation filters in its where', () => {
    expect(readDependencies(schema, 'Tag', { include: { _count: { select: { posts: true } } } })).toEqual(['Post', 'Tag'])
    expect(
      readDependencies(schema, 'User', { include: { _count: { select: { posts: { where: { tags: { some: { name: 'orm' } } } } } } } }),
    ).toEqual(['Post', 'Tag', 'User'])
    expect(readDependencies(schema, 'Profile', { include: { user: { select: { _count: { select: { comments: true } } } } } })).toEqual([
      'Comment',
      'Profile',
      'User',
    ])
  })
  it('counts relations ordered by their _count', () => {
    expect(readDependencies(schema, 'User', { orderBy: { posts: { _count: 'desc' } } })).toEqual(['Post', 'User'])
    expect(readDependencies(schema, 'Post', { orderBy: [{ tags: { _count: 'asc' } }, { id: 'asc' }] })).toEqual(['Post', 'Tag'])
  })
  it('does not take an aggregate _count of rows for a count of relations', () => {
    expect(readDependencies(schema, 'User', { _count: true, where: { id: 1 } })).toEqual(['User'])
    expect(readDependencies(schema, 'Post', { by: ['authorId'], _count: true, orderBy: { _count: { id: 'desc' } } })).toEqual(['Post'])
    expect(readDependencies(schema, 'User', { select: { _all: true, name: true } })).toEqual(['User'])
  })
  it('follows relation filters of count, aggregate and groupBy', () => {
    expect(readDependencies(schema, 'User', { where: { posts: { some: { published: true } } } })).toEqual(['Post', 'User'])
    expect(readDependencies(schema, 'Post', { _count: true, where: { comments: { none: {} } } })).toEqual(['Comment', 'Post'])
    expect(readDependencies(schema, 'Post', { by: ['authorId'], _count: true, where: { author: { is: { active: true } } } })).toEqual(['Post', 'User'])
  })
  it('follows relation filters in where, through AND/OR/NOT and some/every/none', () => {
    expect(readDependencies(schema, 'User', { where: { OR: [{ posts: { some: { tags: { none: { name: 'x' } } } } }] } })).toEqual([
      'Post',
      'Tag',
      'User',
    ])
    expect(readDependencies(schema, 'Comment', { where: { post: { is: { published: true } } } })).toEqual(['Comment', 'Post'])
  })
  it('follows relation fields in orderBy', () => {
    expect(readDependencies(schema, 'Post', { orderBy: [{ author: { name: 'asc' } }] })).toEqual(['Post', 'User'])
  })
})

describe('writeTargets', () => {
  it('is the model for a scalar update', () => {
    expect(sorted(writeTargets(schema, 'Post', 'update', { where: { id: 1 }, data: { title: 'x' } }))).toEqual(['Post'])
    expect(sorted(writeTargets(schema, 'Tag', 'createMany', { data: [{ name: 'a' }] }))).toEqual(['Tag'])
  })
  it('includes models reached by nested writes', () => {
    expect(
      sorted(writeTargets(schema, 'User', 'create', { data: { email: 'a', posts: { create: [{ title: 't', tags: { connect: [{ id: 1 }] } }] } } })),
    ).toEqual(['Post', 'Tag', 'User'])
    expect(sorted(writeTargets(schema, 'Post', 'update', { where: { id: 1 }, data: { tags: { set: [] } } }))).toEqual(['Post', 'Tag'])
    expect(sorted(writeTargets(schema, 'User', 'upsert', { where: { id: 1 }, create: { email: 'a' }, update: { profile: { upsert: { create: {}, update: {} } } } }))).toEqual([
      'Profile',
      // the create names email, which Subscription references
      'Subscription',
      'User',
    ])
  })
  it('includes what a cascading delete reaches, transitively', () => {
    expect(sorted(writeTargets(schema, 'User', 'delete', { where: { id: 1 } }))).toEqual(['Comment', 'Follow', 'Post', 'Profile', 'Subscription', 'User', 'Vote'])
    expect(sorted(writeTargets(schema, 'Post', 'deleteMany', {}))).toEqual(['Comment', 'Post', 'Vote'])
    expect(sorted(writeTargets(schema, 'Comment', 'delete', { where: { id: 1 } }))).toEqual(['Comment'])
  })
  it('includes dependents when an update changes a referenced key', () => {
    expect(sorted(writeTargets(schema, 'User', 'update', { where: { id: 1 }, data: { id: 2 } }))).toEqual(['Comment', 'Follow', 'Post', 'Profile', 'User', 'Vote'])
    expect(sorted(writeTargets(schema, 'User', 'update', { where: { id: 1 }, data: { email: 'e' } }))).toEqual(['Subscription', 'User'])
    expect(sorted(writeTargets(schema, 'User', 'update', { where: { id: 1 }, data: { name: 'n' } }))).toEqual(['User'])
  })
  it('includes cascades of nested deletes', () => {
    expect(sorted(writeTargets(schema, 'User', 'update', { where: { id: 1 }, data: { posts: { deleteMany: {} } } }))).toEqual([
      'Comment',
      'Post',
      'User',
      'Vote',
    ])
  })
})
