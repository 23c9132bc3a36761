// The check of speculative reads against the real client, in both directions: every read of
// this corpus that Prisma accepts passes the check, and every read the check refuses Prisma
// refuses too (but for the one form refused on purpose, an empty `in` list).
import { Decimal } from '@prisma/client-runtime-utils'
import { describe, expect, it } from 'vitest'
import { whyInvalid } from '../../src/middleware/query-check.ts'
import { describeSchema } from '../../src/middleware/schema.ts'
import { setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const { bare } = await setup()
const rows = await seed(bare)
const schema = describeSchema(bare)
const id = rows.alice.id
const post = rows.posts[1].id

type Case = [model: string, operation: string, args: unknown]

const cases: Case[] = [
  // single-row reads: a complete unique selector of values
  ['User', 'findUnique', { where: { id } }],
  ['User', 'findUnique', { where: { email: 'alice@example.com' } }],
  ['User', 'findUnique', { where: { id: undefined, email: 'alice@example.com' } }],
  ['User', 'findUnique', { where: { id, name: { contains: 'A' } } }],
  ['User', 'findUnique', { where: { id, posts: { some: {} } } }],
  ['User', 'findUnique', { where: { id, AND: [{ id: {} }] } }],
  ['User', 'findUnique', { where: { id: 1.5 } }],
  ['User', 'findUniqueOrThrow', { where: { id: 0 } }],
  ['Profile', 'findUnique', { where: { userId: id } }],
  ['User', 'findUnique', { where: { id }, include: { posts: { where: { id: { in: [post] } }, cursor: { id: post }, take: 1 } } }],
  ['User', 'findUnique', { where: { id }, include: { _count: { select: { posts: { where: { body: null } } } } } }],
  ['User', 'findUnique', { where: { id: {} } }],
  ['User', 'findUnique', { where: { id: { equals: id } } }],
  ['User', 'findUnique', { where: { id: undefined } }],
  ['User', 'findUnique', { where: { id: null } }],
  ['User', 'findUnique', { where: { id: null, email: 'alice@example.com' } }],
  ['User', 'findUnique', { where: { id, email: { contains: 'a' } } }],
  ['User', 'findUnique', { where: { AND: [{ id }] } }],
  ['User', 'findUnique', { where: { id: [id] } }],
  ['User', 'findUnique', { where: { id: Number.NaN } }],
  ['User', 'findUnique', { where: {} }],
  ['User', 'findUnique', {}],
  ['User', 'findUniqueOrThrow', undefined],
  ['User', 'findUnique', { where: { id }, include: { posts: { cursor: { id: undefined } } } }],
  ['User', 'findUnique', { where: { id }, include: { posts: { where: { id: null } } } }],
  ['User', 'findUnique', { where: { id }, include: { _count: { select: { posts: { where: { id: null } } } } } }],
  // lists and aggregates: filters
  ['User', 'findMany', { where: { id: { in: undefined } } }],
  ['User', 'findMany', { where: { id: {} } }],
  ['User', 'findMany', { where: { id: { notIn: [] } } }],
  ['User', 'findMany', { where: { id: undefined } }],
  ['User', 'findMany', { where: { id: { equals: undefined } } }],
  ['User', 'findMany', { where: { id: { not: { in: [id] } } } }],
  ['User', 'findMany', { where: { name: null } }],
  ['User', 'findMany', { where: { name: { equals: null } } }],
  ['User', 'findMany', { where: { name: { not: null } } }],
  ['User', 'findMany', { where: { email: { in: ['alice@example.com'] } } }],
  ['User', 'findMany', { where: { role: { in: ['USER', 'ADMIN'] } } }],
  ['User', 'findMany', { where: { karma: { in: [1n, -5n] } } }],
  ['User', 'findMany', { where: { balance: { gt: new Decimal('1') } } }],
  ['User', 'findMany', { where: { createdAt: { lt: new Date() } } }],
  ['User', 'findMany', { where: { avatar: null } }],
  ['User', 'findMany', { where: { settings: {} } }],
  ['User', 'findMany', { where: { OR: [] } }],
  ['User', 'findMany', { where: { NOT: [] } }],
  ['User', 'findMany', { where: { AND: {} } }],
  ['User', 'findMany', { where: { posts: {} } }],
  ['User', 'findMany', { where: { posts: { some: undefined } } }],
  ['User', 'findMany', { where: { profile: null } }],
  ['User', 'findMany', { where: { profile: { is: null } } }],
  ['User', 'findMany', { where: { profile: { isNot: null } } }],
  ['Post', 'findMany', { where: { author: {} } }],
  ['Post', 'findMany', { where: { author: { name: 'Alice' } } }],
  ['Post', 'findMany', { where: { author: { is: { name: 'Alice' } } } }],
  ['Post', 'findMany', { where: { price: null } }],
  ['User', 'findMany', { cursor: { id }, take: -1, skip: 0 }],
  ['User', 'findMany', { take: undefined, skip: undefined, orderBy: [{ id: 'asc' }] }],
  ['User', 'findMany', { take: 1.5 }],
  ['User', 'count', { where: { id: { in: [id] } } }],
  ['Post', 'aggregate', { _count: true, where: { comments: { some: { id: { gt: 0 } } } } }],
  ['User', 'groupBy', { by: ['role'], where: { name: null }, orderBy: { role: 'asc' } }],
  ['User', 'findMany', { where: { id: { in: [] } } }],
  ['User', 'findMany', { where: { id: { in: [null] } } }],
  ['User', 'findMany', { where: { id: { in: [id, undefined] } } }],
  ['User', 'findMany', { where: { id: { in: id } } }],
  ['User', 'findMany', { where: { id: { in: null } } }],
  ['User', 'findMany', { where: { id: { in: [Number.NaN] } } }],
  ['User', 'findMany', { where: { id: { notIn: [null] } } }],
  ['User', 'findMany', { where: { name: { in: [null] } } }],
  ['User', 'findMany', { where: { id: null } }],
  ['User', 'findMany', { where: { id: Number.NaN } }],
  ['User', 'findMany', { where: { id: { equals: null } } }],
  ['User', 'findMany', { where: { id: { not: null } } }],
  ['User', 'findMany', { where: { settings: null } }],
  ['User', 'findMany', { where: { OR: [undefined] } }],
  ['User', 'findMany', { where: { posts: null } }],
  ['User', 'findMany', { where: { posts: { some: null } } }],
  ['Post', 'findMany', { where: { author: null } }],
  ['Post', 'findMany', { where: { author: { is: null } } }],
  ['User', 'findMany', { cursor: { id: undefined } }],
  ['User', 'findMany', { cursor: { id: {} } }],
  ['User', 'findMany', { cursor: {} }],
  ['User', 'findMany', { take: Number.NaN }],
  ['User', 'findMany', { take: null }],
  ['User', 'findMany', { skip: -1 }],
  ['User', 'findMany', { orderBy: [undefined] }],
  ['User', 'count', { where: { id: null } }],
  ['Post', 'aggregate', { _count: true, where: { comments: { some: null } } }],
]

/** Refused by the check on purpose although Prisma runs it: it can only ever match nothing. */

const delegate = (model: string) => (bare as any)[model[0].toLowerCase() + model.slice(1)]
const label = ([model, operation, args]: Case) => `${model}.${operation}(${JSON.stringify(args, (_, v) => (typeof v === 'bigint' ? `${v}n` : v === undefined ? '<undefined>' : Number.isNaN(v) ? '<NaN>' : v))})`
const REFUSED_ON_PURPOSE = [label(['User', 'findMany', { where: { id: { in: [] } } }])]

describe('whyInvalid against the real client', () => {
  it.each(cases.map((c) => [label(c), c] as const))('%s', async (name, [model, operation, args]) => {
    // Refused: a validation error, or the engine's own refusal (a negative skip); a row not
    // found (P2025 of an OrThrow read) is an answer, not a refusal.
    const accepted = await delegate(model)
      [operation](args)
      .then(
        () => true,
        (error: Error) => !['PrismaClientValidationError', 'PrismaClientUnknownRequestError'].includes(error.constructor.name),
      )
    const problem = whyInvalid(schema, model, operation, args)
    if (REFUSED_ON_PURPOSE.includes(name)) {
      expect(accepted).toBe(true)
      expect(problem).toMatch(/in is empty/)
    } else if (accepted) expect(problem).toBeUndefined()
    else expect(problem).toEqual(expect.any(String))
  })

  it('the corpus has both kinds', async () => {
    const verdicts = cases.map(([model, operation, args]) => whyInvalid(schema, model, operation, args) === undefined)
    expect(verdicts.filter(Boolean).length).toBeGreaterThan(30)
    expect(verdicts.filter((v) => !v).length).toBeGreaterThan(30)
  })
})
