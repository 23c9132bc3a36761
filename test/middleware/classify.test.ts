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
    expect(sorted(schema.models)).toEqual(['Comment', 'Post', 'Profile', 'Tag', 'User'])
    expect(Object.fromEntries(schema.relations.get('Post')!)).toEqual({ author: 'User', comments: 'Comment', tags: 'Tag' })
    expect(schema.referencedBy.get('User')).toEqual(
      expect.arrayContaining([
        { model: 'Profile', fields: ['id'] },
        { model: 'Post', fields: ['id'] },
        { model: 'Comment', fields: ['id'] },
      ]),
    )
    expect(schema.referencedBy.get('Comment')).toEqual([])
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
    expect(sorted(writeTargets(schema, 'User', 'upsert', { where: { id: 1 }, create: { email: 'a' }, update: { profile: { upsert: { create: {}, update: {} } } } }))).toEqual(['Profile', 'User'])
  })
  it('includes what a cascading delete reaches, transitively', () => {
    expect(sorted(writeTargets(schema, 'User', 'delete', { where: { id: 1 } }))).toEqual(['Comment', 'Post', 'Profile', 'User'])
    expect(sorted(writeTargets(schema, 'Post', 'deleteMany', {}))).toEqual(['Comment', 'Post'])
    expect(sorted(writeTargets(schema, 'Comment', 'delete', { where: { id: 1 } }))).toEqual(['Comment'])
  })
  it('includes dependents when an update changes a referenced key', () => {
    expect(sorted(writeTargets(schema, 'User', 'update', { where: { id: 1 }, data: { id: 2 } }))).toEqual(['Comment', 'Post', 'Profile', 'User'])
    expect(sorted(writeTargets(schema, 'User', 'update', { where: { id: 1 }, data: { name: 'n' } }))).toEqual(['User'])
  })
  it('includes cascades of nested deletes', () => {
    expect(sorted(writeTargets(schema, 'User', 'update', { where: { id: 1 }, data: { posts: { deleteMany: {} } } }))).toEqual([
      'Comment',
      'Post',
      'User',
    ])
  })
})
