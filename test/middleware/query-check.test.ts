// The check of speculative reads over plain descriptors (test/integration/query-check.test.ts
// holds the same verdicts against the real client).
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { describe, expect, it } from 'vitest'
import { PrismaClient } from '../../src/generated/prisma/client.ts'
import { whyInvalid } from '../../src/middleware/query-check.ts'
import { describeSchema } from '../../src/middleware/schema.ts'

// The schema of the real generated test client (never connected: nothing here queries).
const schema = describeSchema(new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: ':memory:' }) }))
const check = (model: string, operation: string, args: unknown) => whyInvalid(schema, model, operation, args)

describe('whyInvalid', () => {
  it('wants a complete unique selector of values in a findUnique', () => {
    expect(check('User', 'findUnique', { where: { id: 1 } })).toBeUndefined()
    expect(check('User', 'findUniqueOrThrow', { where: { email: 'a', name: { contains: 'x' }, posts: { none: {} } } })).toBeUndefined()
    expect(check('User', 'findUnique', { where: { id: undefined } })).toMatch(/User where names no unique field \(id, email\)/)
    expect(check('User', 'findUnique', { where: { id: {} } })).toMatch(/User where\.id is not a value: \{\.\.\.\}/)
    expect(check('User', 'findUnique', { where: { id: { in: [] } } })).toMatch(/where\.id is not a value/)
    expect(check('User', 'findUnique', { where: { id: null } })).toMatch(/where\.id is not a value: null/)
    expect(check('User', 'findUnique', { where: { id: Number.NaN } })).toMatch(/not a value: NaN/)
    expect(check('User', 'findUnique', { where: { OR: [{ id: 1 }] } })).toMatch(/names no unique field/)
    expect(check('User', 'findUnique', {})).toMatch(/User where is missing/)
    expect(check('User', 'findUnique', undefined)).toMatch(/User where is missing/)
  })

  it('checks cursors, take and skip at every level', () => {
    expect(check('User', 'findMany', { cursor: { email: 'a' }, take: -2, skip: 1 })).toBeUndefined()
    expect(check('User', 'findMany', { cursor: { id: undefined } })).toMatch(/User cursor names no unique field/)
    expect(check('User', 'findMany', { take: Number.NaN })).toMatch(/take is NaN/)
    expect(check('User', 'findMany', { skip: -1 })).toMatch(/skip is negative/)
    expect(check('User', 'findUnique', { where: { id: 1 }, include: { posts: { cursor: { id: null } } } })).toMatch(/Post cursor\.id is not a value/)
    expect(check('User', 'findUnique', { where: { id: 1 }, select: { posts: { select: { comments: { take: null } } } } })).toMatch(/Comment take is null/)
  })

  it('refuses an Int outside 32 bits (PostgreSQL refuses it, failing the reads Prisma sent with it)', () => {
    expect(check('Post', 'findUnique', { where: { id: 2 ** 31 - 1 } })).toBeUndefined()
    expect(check('Post', 'findMany', { where: { id: { gte: -(2 ** 31) } } })).toBeUndefined()
    expect(check('Post', 'findUnique', { where: { id: -3999999995 } })).toMatch(/Post where\.id is out of range: -3999999995/)
    expect(check('Post', 'findMany', { where: { authorId: 2 ** 31 } })).toMatch(/Post\.authorId is out of range/)
    expect(check('Post', 'findMany', { where: { id: { in: [1, 2 ** 40] } } })).toMatch(/Post\.id\.in holds 1099511627776, out of range/)
    expect(check('Post', 'findMany', { where: { id: { lt: -(2 ** 31) - 1 } } })).toMatch(/Post\.id\.lt is out of range/)
    // BigInt fields take any bigint, and numbers past 32 bits.
    expect(check('User', 'findMany', { where: { karma: 2 ** 40 } })).toBeUndefined()
  })

  it('wants `in` to be a non-empty list of values', () => {
    expect(check('Post', 'findMany', { where: { id: { in: [1, 2] } } })).toBeUndefined()
    expect(check('Post', 'findMany', { where: { id: { notIn: [] } } })).toBeUndefined()
    expect(check('Post', 'findMany', { where: { id: { in: undefined } } })).toBeUndefined()
    expect(check('Post', 'findMany', { where: { id: { in: [] } } })).toMatch(/Post\.id\.in is empty/)
    expect(check('Post', 'findMany', { where: { id: { in: [1, undefined] } } })).toMatch(/Post\.id\.in holds undefined/)
    expect(check('Post', 'findMany', { where: { title: { in: [null] } } })).toMatch(/holds null/)
    expect(check('Post', 'findMany', { where: { id: { in: 3 } } })).toMatch(/is not a list: 3/)
    expect(check('Post', 'findMany', { where: { id: { not: { in: [] } } } })).toMatch(/in is empty/)
    expect(check('User', 'count', { where: { OR: [{ posts: { some: { id: { in: [] } } } }] } })).toMatch(/Post\.id\.in is empty/)
  })

  it('refuses null where the schema says the field or relation is required', () => {
    expect(check('User', 'findMany', { where: { name: null, profile: null, avatar: { equals: null } } })).toBeUndefined()
    expect(check('User', 'findMany', { where: { email: null } })).toMatch(/User\.email is null, and the field is required/)
    expect(check('User', 'findMany', { where: { email: { not: null } } })).toMatch(/email\.not is null/)
    expect(check('User', 'findMany', { where: { settings: null } })).toMatch(/Json needs Prisma\.JsonNull/)
    expect(check('User', 'findMany', { where: { settings: { equals: null } } })).toBeUndefined()
    expect(check('Post', 'findMany', { where: { author: null } })).toMatch(/Post\.author is null, and the relation is required/)
    expect(check('Post', 'findMany', { where: { author: { is: null } } })).toMatch(/Post\.author\.is is null/)
    expect(check('User', 'findMany', { where: { profile: { isNot: null } } })).toBeUndefined()
    expect(check('User', 'findMany', { where: { posts: { some: null } } })).toMatch(/User\.posts\.some is null/)
    expect(check('User', 'findMany', { where: { posts: { every: { author: { email: null } } } } })).toMatch(/User\.email is null/)
  })

  it('follows select, include and _count into the reads nested there', () => {
    expect(check('User', 'findMany', { include: { _count: { select: { posts: { where: { body: null } } } } } })).toBeUndefined()
    expect(check('User', 'findMany', { include: { _count: { select: { posts: { where: { title: null } } } } } })).toMatch(/Post\.title is null/)
    expect(check('Comment', 'findMany', { include: { post: { include: { tags: { where: { name: { in: [] } } } } } } })).toMatch(/Tag\.name\.in is empty/)
    // count's select names fields, not relations; aggregates' _count is not a relation count
    expect(check('User', 'count', { select: { _all: true, posts: true } })).toBeUndefined()
    expect(check('Post', 'aggregate', { _count: { id: true }, where: { id: { gt: 1 } } })).toBeUndefined()
  })

  it('leaves alone what it does not know', () => {
    expect(check('User', 'findMany', { where: { nope: null, id: [1] } })).toBeUndefined()
    expect(check('User', 'findMany', { where: { id: {} } })).toBeUndefined()
    expect(check('User', 'groupBy', { by: ['role'], having: { id: { _count: { gt: 1 } } } })).toBeUndefined()
    expect(check('User', 'findMany', 'not args')).toMatch(/not an object/)
  })

  it('knows compound selectors by their key names', () => {
    const inlineSchema = ['model Pair {', '  a Int', '  b String', '  c String?', '  @@id([a, b])', '  @@unique([b, c], name: "bc")', '}'].join('\n')
    const fields = ['a', 'b', 'c'].map((name) => ({ name, kind: 'scalar', type: name === 'a' ? 'Int' : 'String' }))
    const pair = describeSchema({ _runtimeDataModel: { models: { Pair: { fields } } }, _engineConfig: { inlineSchema } })
    const pairCheck = (args: unknown) => whyInvalid(pair, 'Pair', 'findUnique', args)
    expect(pairCheck({ where: { a_b: { a: 1, b: 'x' } } })).toBeUndefined()
    expect(pairCheck({ where: { bc: { b: 'x', c: 'y' }, a: { gt: 0 } } })).toBeUndefined()
    expect(pairCheck({ where: { a_b: { a: 1 } } })).toMatch(/where\.a_b\.b is not a value: undefined/)
    expect(pairCheck({ where: { a_b: 1 } })).toMatch(/where\.a_b is not an object/)
    expect(pairCheck({ where: { a: 1, b: 'x' } })).toMatch(/names no unique field \(a_b, bc\)/)
  })

  it('without the schema text, checks only what the runtime data model tells', () => {
    const fields = [
      { name: 'id', kind: 'scalar', type: 'Int' },
      { name: 'name', kind: 'scalar', type: 'String' },
    ]
    const bare = describeSchema({ _runtimeDataModel: { models: { Thing: { fields } } } })
    expect(whyInvalid(bare, 'Thing', 'findUnique', { where: { name: 'x' } })).toBeUndefined()
    expect(whyInvalid(bare, 'Thing', 'findMany', { where: { name: null, id: { equals: null } } })).toBeUndefined()
    expect(whyInvalid(bare, 'Thing', 'findMany', { where: { id: { in: [] } } })).toMatch(/Thing\.id\.in is empty/)
    expect(whyInvalid(bare, 'Thing', 'findUnique', {})).toMatch(/where is missing/)
    expect(whyInvalid(bare, 'Thing', 'findMany', { skip: -1 })).toMatch(/skip is negative/)
  })
})
