import fc from 'fast-check'
import { Decimal } from '@prisma/client-runtime-utils'
import { describe, expect, it } from 'vitest'
import { QueryKeys, queryKey } from '../../src/cache/key.ts'
import { canonicalArgs, UncacheableError } from '../../src/canonical.ts'
import { shuffleFreeKeys, shuffleKeys } from '../support/key-order.ts'

const scalar = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.bigInt(),
  fc.boolean(),
  fc.constant(null),
  fc.date({ noInvalidDate: true }),
)
// fast-check 4 builds dictionaries with a null prototype unless told otherwise; to Prisma such an
// object is the same argument as a plain one, so generate plain objects. Own `__proto__` keys are
// tested on their own below.
const keyArb = fc.string().filter((key) => key !== '__proto__')
const dict = <T>(values: fc.Arbitrary<T>) => fc.dictionary(keyArb, values, { noNullPrototype: true })
const argsArb = dict(fc.oneof(scalar, dict(scalar), fc.array(scalar)))

// Prisma-like read arguments with nested select and include, omit, where and an aggregate's
// selectors, whose members come in random orders.
const fieldName = fc.constantFrom('id', 'title', 'name', 'email', 'authorId', 'createdAt')
const relationName = fc.constantFrom('posts', 'comments', 'author', 'profile', 'tags', '_count')
const fields = <T>(names: fc.Arbitrary<string>, values: fc.Arbitrary<T>) => fc.dictionary(names, values, { noNullPrototype: true, maxKeys: 4 })
const where = fields(fieldName, fc.oneof(scalar, fields(fc.constantFrom('equals', 'not', 'in', 'gt'), scalar)))
const { relationArgs } = fc.letrec<{ relationArgs: Record<string, unknown> }>((tie) => ({
  relationArgs: fc.record(
    {
      where,
      take: fc.integer({ min: 1, max: 9 }),
      orderBy: fields(fieldName, fc.constantFrom('asc', 'desc')),
      select: fields(fc.oneof(fieldName, relationName), fc.oneof({ depthSize: 'small' }, fc.boolean(), tie('relationArgs'))),
      include: fields(relationName, fc.oneof({ depthSize: 'small' }, fc.boolean(), tie('relationArgs'))),
      omit: fields(fieldName, fc.boolean()),
    },
    { requiredKeys: [], noNullPrototype: true },
  ),
}))
const selector = fields(fieldName, fc.constant(true))
const queryArgsArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  relationArgs,
  fc.record({ where, by: fc.array(fieldName, { maxLength: 3 }), _count: fc.oneof(fc.constant(true), selector), _sum: selector, _avg: selector, _min: selector, _max: selector }, { requiredKeys: [], noNullPrototype: true }),
)

/**
 * Whether `a` and `b` (the same arguments, keys perhaps in other orders) have the members of
 * every select, include and selector in the same order, and the selectors in the same order.
 */
function sameOrderedAreas(a: unknown, b: unknown): boolean {
  const areas = (value: unknown, area: 'args' | 'fields' | 'free', out: string[]): string[] => {
    if (Array.isArray(value)) value.forEach((item) => areas(item, area, out))
    else if (value !== null && typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
      const record = value as Record<string, unknown>
      const keys = Object.keys(record).filter((key) => record[key] !== undefined)
      if (area === 'fields') out.push(keys.join(','))
      if (area === 'args') out.push(keys.filter((key) => key.startsWith('_')).join(','))
      for (const key of area === 'fields' ? keys : [...keys].sort()) {
        areas(record[key], area === 'args' ? (['select', 'include', '_count', '_sum', '_avg', '_min', '_max'].includes(key) ? 'fields' : 'free') : area === 'fields' ? 'args' : 'free', out)
      }
    }
    return out
  }
  return areas(a, 'args', []).join('|') === areas(b, 'args', []).join('|')
}

describe('canonical keys', () => {
  it('ignore the order of object keys where it does not shape the result', () => {
    fc.assert(
      fc.property(fc.oneof(argsArb, queryArgsArb), fc.nat(), (args, seed) => {
        expect(canonicalArgs(shuffleFreeKeys(args, seed))).toBe(canonicalArgs(args))
      }),
    )
  })

  it('keep the order of select, include and selector members, at any depth (property)', () => {
    fc.assert(
      fc.property(queryArgsArb, fc.nat(), (args, seed) => {
        const shuffled = shuffleKeys(args, seed)
        // Equal keys exactly when every ordered area has its members in the same order.
        expect(canonicalArgs(shuffled) === canonicalArgs(args)).toBe(sameOrderedAreas(args, shuffled))
      }),
    )
  })

  it('tell apart reads whose result keys come in another order, and only those', () => {
    const key = (args: object) => canonicalArgs(args)
    // The result's keys follow these orders (src/argument-order.ts has the measurements).
    expect(key({ include: { posts: true, comments: true } })).not.toBe(key({ include: { comments: true, posts: true } }))
    expect(key({ select: { title: true, id: true } })).not.toBe(key({ select: { id: true, title: true } }))
    expect(key({ include: { posts: { select: { title: true, id: true } } } })).not.toBe(key({ include: { posts: { select: { id: true, title: true } } } }))
    expect(key({ select: { _count: { select: { posts: true, comments: true } } } })).not.toBe(key({ select: { _count: { select: { comments: true, posts: true } } } }))
    expect(key({ _sum: { views: true }, _count: true })).not.toBe(key({ _count: true, _sum: { views: true } }))
    expect(key({ _max: { id: true, score: true } })).not.toBe(key({ _max: { score: true, id: true } }))
    expect(key({ by: ['authorId', 'published'] })).not.toBe(key({ by: ['published', 'authorId'] }))
    // These orders never show in a result.
    expect(key({ where: { id: 1, name: 'a' }, take: 1 })).toBe(key({ take: 1, where: { name: 'a', id: 1 } }))
    expect(key({ omit: { name: true, email: true }, include: { posts: true } })).toBe(key({ include: { posts: true }, omit: { email: true, name: true } }))
    expect(key({ include: { posts: { where: { a: 1, b: 2 }, take: 2 } } })).toBe(key({ include: { posts: { take: 2, where: { b: 2, a: 1 } } } }))
    expect(key({ by: ['authorId'], _count: true, orderBy: { authorId: 'asc' } })).toBe(key({ orderBy: { authorId: 'asc' }, _count: true, by: ['authorId'] }))
    // A field called like an argument, inside a where, is a field: its members' order is free.
    expect(key({ where: { select: { equals: 1, not: 2 } } })).toBe(key({ where: { select: { not: 2, equals: 1 } } }))
  })

  it('tell apart values that differ', () => {
    fc.assert(
      fc.property(argsArb, argsArb, (a, b) => {
        fc.pre(!isDeepStrictEqual(a, b))
        expect(canonicalArgs(a)).not.toBe(canonicalArgs(b))
      }),
    )
  })

  it('never confuse a Date, a string, a BigInt and a number', () => {
    const date = new Date(1_700_000_000_000)
    const values = [
      date,
      date.toISOString(),
      String(date.getTime()),
      date.getTime(),
      BigInt(date.getTime()),
      new Decimal(date.getTime()),
      1,
      '1',
      1n,
      true,
      'true',
      null,
      'null',
      0,
      -0,
      new Uint8Array([1]),
      [1],
      { 0: 1 },
    ]
    const keys = values.map((value) => canonicalArgs({ where: { id: value } }))
    expect(new Set(keys).size).toBe(values.length)
  })

  it('keep an own __proto__ key (a Json filter value) apart from its absence', () => {
    const forged = JSON.parse('{"equals":{"__proto__":{"admin":true}}}')
    expect(canonicalArgs({ where: { settings: forged } })).not.toBe(canonicalArgs({ where: { settings: { equals: {} } } }))
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
  })

  it('treat undefined members as absent, as Prisma does', () => {
    expect(canonicalArgs({ where: { id: 1, name: undefined } })).toBe(canonicalArgs({ where: { id: 1 } }))
  })

  it('include model, operation and scope', () => {
    const args = { where: { id: 1 } }
    const keys = [
      queryKey('User', 'findUnique', '', args),
      queryKey('Post', 'findUnique', '', args),
      queryKey('User', 'findFirst', '', args),
      queryKey('User', 'findUnique', 'tenant-a', args),
      queryKey('User', 'findUnique', 'tenant-b', args),
      // a scope cannot be forged from another scope plus a separator
      queryKey('User', 'findUnique', 'a|', args),
    ]
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('are always a hash: arguments never show in a key, whatever their size, and still differ', () => {
    const hashed = /^[\w-]{43}$/
    const big = { where: { id: { in: Array.from({ length: 50_000 }, (_, i) => i) } } }
    const bigger = { where: { id: { in: Array.from({ length: 50_001 }, (_, i) => i) } } }
    const a = queryKey('User', 'findMany', '', big)
    const b = queryKey('User', 'findMany', '', bigger)
    expect(a).toMatch(hashed)
    expect(a).not.toBe(b)
    // A short read keeps nothing of its arguments, its model or its scope in the key either.
    const short = queryKey('User', 'findUnique', 'tenant-7', { where: { email: 'ann@example.com' } })
    expect(short).toMatch(hashed)
    for (const part of ['ann', 'example', 'User', 'tenant']) expect(short).not.toContain(part)
    fc.assert(
      fc.property(argsArb, fc.string(), (args, scope) => {
        expect(queryKey('Post', 'findMany', scope, args)).toMatch(hashed)
      }),
    )
  })

  it('never hold a brace, so no part of a key becomes a Redis Cluster hash tag, and still differ', () => {
    const braces = fc.string({ unit: fc.constantFrom('{', '}', 'a', '"', ':', '(') })
    fc.assert(
      fc.property(argsArb, braces, dict(braces), (args, scope, withBraces) => {
        for (const key of [queryKey('User', 'findUnique', scope, args), queryKey('User', 'findMany', '', withBraces)]) {
          expect(key).not.toMatch(/[{}]/)
        }
      }),
    )
    // Nor does the text hashed: objects are written in parentheses.
    expect(canonicalArgs({ where: { id: 1 }, include: { comments: true } })).toBe('("include":("comments":T,),"where":("id":n1,),)')
    const one = queryKey('Post', 'findUnique', '', { where: { id: 1 }, include: { comments: true } })
    expect(queryKey('Post', 'findUnique', '', { where: { id: 2 }, include: { comments: true } })).not.toBe(one)
    expect(queryKey('Tag', 'findMany', '', { where: { name: '{a}' } })).not.toBe(queryKey('Tag', 'findMany', '', { where: { name: '{b}' } }))
  })

  it('are the same when remembered: QueryKeys gives queryKey of every read, with at most 512 texts held', () => {
    const keys = new QueryKeys()
    fc.assert(
      fc.property(argsArb, fc.string(), (args, scope) => {
        const expected = queryKey('Post', 'findMany', scope, args)
        expect(keys.key('Post', 'findMany', scope, args)).toBe(expected)
        expect(keys.key('Post', 'findMany', scope, args, canonicalArgs(args))).toBe(expected) // remembered
        expect(keys.key('Post', 'findFirst', scope, args)).toBe(queryKey('Post', 'findFirst', scope, args))
      }),
    )
    for (let id = 0; id < 2000; id++) expect(keys.key('User', 'findUnique', '', { where: { id } })).toBe(queryKey('User', 'findUnique', '', { where: { id } }))
    expect(keys.size).toBe(512)
    // A long text is hashed every time, never held.
    const big = { where: { id: { in: Array.from({ length: 500 }, (_, i) => i) } } }
    const fresh = new QueryKeys()
    expect(fresh.key('User', 'findMany', '', big)).toBe(queryKey('User', 'findMany', '', big))
    expect(fresh.size).toBe(0)
  })

  it('refuse cyclic, too deep, function and unknown class arguments', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    let deep: Record<string, unknown> = {}
    const root = deep
    for (let i = 0; i < 200; i++) deep = (deep.next = {}) as Record<string, unknown>
    for (const args of [cyclic, root, { where: { id: () => 1 } }, { where: { id: new Map() } }]) {
      expect(() => canonicalArgs(args)).toThrow(UncacheableError)
    }
  })

  it('accept the same object twice when it is not a cycle', () => {
    const shared = { id: 1 }
    expect(() => canonicalArgs({ OR: [shared, shared] })).not.toThrow()
  })
})

function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  try {
    expect(a).toStrictEqual(b)
    return Object.is(JSON.stringify(a, replacer), JSON.stringify(b, replacer))
  } catch {
    return false
  }
}
function replacer(_key: string, value: unknown) {
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'number' && Object.is(value, -0)) return '-0'
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  return value
}
