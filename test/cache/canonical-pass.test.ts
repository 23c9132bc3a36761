import fc from 'fast-check'
import { Decimal } from '@prisma/client-runtime-utils'
import { describe, expect, it } from 'vitest'
import { argsText, canonicalArgs, prefixedArgs, quotedNameCount, UncacheableError, valueText } from '../../src/canonical.ts'
import { referenceText } from '../support/canonical-reference.ts'

/** What a text function gives: its text, or the class and message of what it threw. */
function outcome(f: () => string): string {
  try {
    return `text ${f()}`
  } catch (error) {
    return `${error instanceof UncacheableError ? 'refused' : 'threw'} ${(error as Error).message}`
  }
}

const names = fc.constantFrom('where', 'id', 'select', 'include', 'orderBy', 'in', 'equals', 'name', '_count', '_sum', 'by', 'a', 'b', '')
const leaf = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity),
  fc.bigInt(),
  fc.boolean(),
  fc.constantFrom(null, undefined),
  fc.date(),
  fc.integer().map((n) => new Decimal(`${n}.25`)),
  fc.uint8Array({ maxLength: 6 }),
  fc.uint8Array({ maxLength: 6 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom(() => 1, Symbol('s'), new Map(), { ifUndefined: () => 0 }),
)
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(names, tie('value'), { noNullPrototype: true, maxKeys: 4 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 3 }),
  ),
}))

describe('the canonical text, written in one pass', () => {
  it('is the text (or refusal) of the list-of-parts writer it replaced, in every mode', () => {
    fc.assert(
      fc.property(value, (args) => {
        expect(outcome(() => canonicalArgs(args))).toBe(outcome(() => referenceText(args, 'args', true)))
        expect(outcome(() => argsText(args))).toBe(outcome(() => referenceText(args, 'args', false)))
        expect(outcome(() => valueText(args))).toBe(outcome(() => referenceText(args, 'any', false)))
        expect(outcome(() => prefixedArgs('M.findMany|0:|', args))).toBe(outcome(() => 'M.findMany|0:|' + referenceText(args, 'args', true)))
      }),
      { numRuns: 3000 },
    )
  })

  it('refuses cycles and writes an object met twice (not inside itself) twice, as before', () => {
    const shared = { id: 1 }
    const dag = { where: { OR: [shared, shared] }, select: { a: true } }
    expect(canonicalArgs(dag)).toBe(referenceText(dag, 'args', true))
    const cyclic: Record<string, unknown> = { id: 1 }
    cyclic.self = { inner: [cyclic] }
    expect(() => canonicalArgs({ where: cyclic })).toThrow('arguments are cyclic')
    expect(argsText({ where: cyclic })).toBe(referenceText({ where: cyclic }, 'args', false))
    // A walk that threw leaves nothing behind: the next one writes the same text as the reference.
    const after = { where: { self: 1 } }
    expect(canonicalArgs(after)).toBe(referenceText(after, 'args', true))
  })

  it('writes a text of its own inside a getter of the arguments, and the outer text is unchanged', () => {
    const inner = { where: { id: 2 }, take: 3 }
    let written = ''
    const args = {
      where: {
        get id() {
          written = canonicalArgs(inner)
          return 7
        },
        name: { in: ['a', 'b'] },
      },
    }
    const plain = { where: { id: 7, name: { in: ['a', 'b'] } } }
    expect(canonicalArgs(args)).toBe(referenceText(plain, 'args', true))
    expect(written).toBe(referenceText(inner, 'args', true))
  })

  it('takes only own members of a one-member object, as Object.keys does', () => {
    Object.defineProperty(Object.prototype, 'inherited', { value: 1, enumerable: true, configurable: true, writable: true })
    try {
      const args = { where: { id: 1 } }
      expect(canonicalArgs(args)).toBe('("where":("id":n1,),)')
      expect(canonicalArgs(args)).toBe(referenceText(args, 'args', true))
    } finally {
      delete (Object.prototype as Record<string, unknown>).inherited
    }
  })

  it('remembers at most 1024 quoted member names, and writes the rest all the same', () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({ [`name${i}`]: i, [`other${i}`]: -i }))
    for (const args of many) expect(valueText(args)).toBe(referenceText(args, 'any', false))
    expect(quotedNameCount()).toBeLessThanOrEqual(1024)
    expect(quotedNameCount()).toBeGreaterThan(100)
  })
})
