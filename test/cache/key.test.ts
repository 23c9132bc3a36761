import fc from 'fast-check'
import { Decimal } from '@prisma/client-runtime-utils'
import { describe, expect, it } from 'vitest'
import { canonicalArgs, queryKey, UncacheableError } from '../../src/cache/key.ts'

/** Rebuilds an object with its keys inserted in another order. */
function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((item, i) => shuffleKeys(item, seed + i))
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value
  const keys = Object.keys(value)
  const order = keys.map((key, i) => [((i + 1) * 7919 * (seed + 3)) % 104729, key] as const).sort((a, b) => a[0] - b[0])
  const out: Record<string, unknown> = {}
  for (const [, key] of order) out[key] = shuffleKeys((value as Record<string, unknown>)[key], seed + 1)
  return out
}

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

describe('canonical keys', () => {
  it('ignore the order of object keys', () => {
    fc.assert(
      fc.property(argsArb, fc.nat(), (args, seed) => {
        expect(canonicalArgs(shuffleKeys(args, seed))).toBe(canonicalArgs(args))
      }),
    )
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

  it('stay short for huge arguments, and still differ', () => {
    const big = { where: { id: { in: Array.from({ length: 50_000 }, (_, i) => i) } } }
    const bigger = { where: { id: { in: Array.from({ length: 50_001 }, (_, i) => i) } } }
    const a = queryKey('User', 'findMany', '', big)
    const b = queryKey('User', 'findMany', '', bigger)
    expect(a.length).toBeLessThan(100)
    expect(a).not.toBe(b)
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
    // Two queries that differ only in an id keep apart, and stay readable.
    const one = queryKey('Post', 'findUnique', '', { where: { id: 1 }, include: { comments: true } })
    expect(one).toBe('Post.findUnique|0:|("include":("comments":T,),"where":("id":n1,),)')
    expect(queryKey('Post', 'findUnique', '', { where: { id: 2 }, include: { comments: true } })).not.toBe(one)
    expect(queryKey('Tag', 'findMany', '', { where: { name: '{a}' } })).not.toBe(queryKey('Tag', 'findMany', '', { where: { name: '{b}' } }))
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
