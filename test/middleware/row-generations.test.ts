import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { relatedModels } from '../../src/middleware/classify.ts'
import { PrismaClient } from '../../src/generated/prisma/client.ts'
import { readKeys, writeKeys } from '../../src/middleware/row-generations.ts'
import { describeSchema } from '../../src/middleware/schema.ts'

// The schema of the real generated test client (never connected: nothing here queries).
const schema = describeSchema(new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: ':memory:' }) }))
const write = (model: string, operation: string, args: unknown, result?: unknown) => [...writeKeys(schema, true, model, operation, 'write', args, { result })].sort()
const alice = { id: 1, email: 'a@x', name: 'A', mentorId: null }

describe('row fields', () => {
  it('are the single-field unique keys of Int, BigInt and exactly compared String type', () => {
    expect(Object.fromEntries(schema.rowFields.get('User')!)).toEqual({ id: 'int', email: 'string' })
    expect(Object.fromEntries(schema.rowFields.get('Profile')!)).toEqual({ id: 'int', userId: 'int' })
    expect(Object.fromEntries(schema.rowFields.get('Follow')!)).toEqual({})
  })
})

describe('readKeys', () => {
  it('of a row read are its row key, its rows key and the models it reaches, sorted, with or without relations (property)', () => {
    const include = fc.option(fc.dictionary(fc.constantFrom('posts', 'profile', 'comments', 'mentees', 'name', '_count'), fc.boolean(), { noNullPrototype: true, maxKeys: 3 }), { nil: undefined })
    const where = fc.oneof(fc.record({ id: fc.integer({ min: 1, max: 9 }) }), fc.record({ email: fc.constantFrom('a@x', 'b@x') }))
    fc.assert(
      fc.property(where, include, (w, inc) => {
        const args = inc === undefined ? { where: w } : { where: w, include: inc }
        const row = 'id' in w ? `User#id=${w.id}` : `User#email=${JSON.stringify(w.email)}`
        expect(readKeys(schema, true, 'User', 'findUnique', args)).toEqual([...new Set([...relatedModels(schema, 'User', args), 'User#rows', row])].sort())
      }),
      { numRuns: 300 },
    )
  })

  it('a findUnique by a unique value depends on its row and its relations, not on its model', () => {
    expect(readKeys(schema, true, 'User', 'findUnique', { where: { email: 'a@x' }, include: { posts: true } })).toEqual(['Post', 'User#email="a@x"', 'User#rows'])
    expect(readKeys(schema, true, 'Post', 'findUniqueOrThrow', { where: { id: 7n } })).toEqual(['Post#id=7', 'Post#rows'])
  })

  it('a relation back to the same model keeps its model', () => {
    expect(readKeys(schema, true, 'User', 'findUnique', { where: { id: 1 }, include: { mentees: true } })).toEqual(['User', 'User#id=1', 'User#rows'])
  })

  it('lists, compound keys, filters on the key, and rows off depend on the model', () => {
    expect(readKeys(schema, true, 'User', 'findFirst', { where: { id: 1 } })).toEqual(['User'])
    expect(readKeys(schema, true, 'Vote', 'findUnique', { where: { userId_postId: { userId: 1, postId: 2 } } })).toEqual(['Vote'])
    expect(readKeys(schema, true, 'User', 'findUnique', { where: { id: 1.5 } })).toEqual(['User'])
    expect(readKeys(schema, false, 'User', 'findUnique', { where: { id: 1 } })).toEqual(['User'])
  })
})

describe('writeKeys', () => {
  it('an update by unique moves its row (every unique value of it, from the result) and its model’s lists', () => {
    expect(write('User', 'update', { where: { email: 'a@x' }, data: { name: 'B' } }, alice)).toEqual(['User', 'User#email="a@x"', 'User#id=1'])
  })

  it('a row value not in the result, or a new value of a unique field, moves the model whole', () => {
    expect(write('User', 'update', { where: { id: 1 }, data: { name: 'B' }, select: { name: true } }, { name: 'B' })).toEqual(['User', 'User#rows'])
    expect(write('User', 'update', { where: { id: 1 }, data: { email: 'b@x' } }, { ...alice, email: 'b@x' })).toContain('User#rows')
  })

  it('updateMany, deleteMany, createMany, a failed write and raw SQL move their models whole', () => {
    expect(write('Post', 'updateMany', { where: { published: true }, data: { title: 'x' } }, { count: 3 })).toEqual(['Post', 'Post#rows'])
    expect([...writeKeys(schema, true, 'Post', 'update', 'write', { where: { id: 1 }, data: {} }, undefined)].sort()).toEqual(['Post', 'Post#rows'])
    expect([...writeKeys(schema, true, undefined, '$executeRaw', 'raw', {}, { result: 1 })]).toContain('AuditLog#rows')
  })

  it('a delete moves the deleted row and, whole, every model its referential actions change', () => {
    const keys = write('Post', 'delete', { where: { id: 4 } }, { id: 4 })
    expect(keys).toEqual(expect.arrayContaining(['Comment', 'Comment#rows', 'Post', 'Post#id=4', 'Vote', 'Vote#rows']))
    expect(keys).not.toContain('Post#rows')
    // A user's mentees are set null by the self-relation: every User row may change.
    expect(write('User', 'delete', { where: { id: 1 } }, alice)).toContain('User#rows')
  })

  it('nested writes by unique move their rows; other nested writes move their models whole', () => {
    const nested = write('User', 'update', { where: { id: 1 }, data: { posts: { update: { where: { id: 5 }, data: { title: 't' } } } } }, alice)
    expect(nested).toEqual(expect.arrayContaining(['Post', 'Post#id=5', 'User', 'User#email="a@x"', 'User#id=1']))
    expect(nested).not.toContain('Post#rows')
    expect(nested).not.toContain('User#rows')
    expect(write('User', 'update', { where: { id: 1 }, data: { posts: { create: { title: 't' } } } }, alice)).toContain('Post#rows')
  })

  it('createManyAndReturn and updateManyAndReturn move the rows they returned', () => {
    expect(write('Post', 'createManyAndReturn', { data: [{ title: 'a' }, { title: 'b' }] }, [{ id: 8 }, { id: 9 }])).toEqual(['Post', 'Post#id=8', 'Post#id=9'])
    expect(write('Post', 'updateManyAndReturn', { where: { title: 'a' }, data: { title: 'c' } }, [{ id: 8 }])).toEqual(['Post', 'Post#id=8'])
  })

  it('with rows off, every write moves its models whole', () => {
    expect([...writeKeys(schema, false, 'User', 'update', 'write', { where: { id: 1 }, data: { name: 'B' } }, { result: alice })].sort()).toEqual(['User', 'User#rows'])
  })
})
