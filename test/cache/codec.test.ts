import fc from 'fast-check'
import { Decimal } from '@prisma/client-runtime-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { cloneResult } from '../../src/cache/clone.ts'
import { CodecError, createCodec, type DecimalSupport } from '../../src/cache/codec.ts'
import { kind, sameTypes, typeDifferences } from '../support/types.ts'

const decimalSupport: DecimalSupport = {
  isDecimal: (value) => value instanceof Decimal,
  fromString: (text) => new Decimal(text),
}
const codec = createCodec(decimalSupport)

// ------------------------------------------------------------------ type walkers

/** Mutable parts (objects, arrays, Dates, byte arrays and their buffers) the two values share. */
function sharedMutableParts(a: unknown, b: unknown, path = '$', out: string[] = []): string[] {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return out
  if (a instanceof Decimal) return out // immutable, shared on purpose
  if (a === b) out.push(path)
  if (a instanceof Uint8Array && b instanceof Uint8Array && a.byteLength > 0 && a.buffer === b.buffer) out.push(`${path}.buffer`)
  if (a instanceof Date || a instanceof Uint8Array) return out
  for (const key of Object.keys(a)) {
    sharedMutableParts((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`, out)
  }
  return out
}

/** Every object reachable in `value` has a prototype a query result may have. */
function onlyResultPrototypes(value: unknown, seen = new Set<object>()): boolean {
  if (typeof value !== 'object' || value === null) return true
  if (seen.has(value)) return true
  seen.add(value)
  const k = kind(value)
  if (k.startsWith('foreign')) return false
  if (k === 'object' || k === 'array') return Object.values(value).every((item) => onlyResultPrototypes(item, seen))
  return true
}

// ------------------------------------------------------------------ arbitraries

const intArb = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
const floatArb = fc.oneof(fc.double(), fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MAX_VALUE))
const bigIntArb = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n),
)
const decimalArb = fc
  .oneof(
    fc
      .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 38n }), fc.integer({ min: 0, max: 30 }))
      .map(([negative, digits, scale]) => {
        const text = digits.toString().padStart(scale + 1, '0')
        return (negative ? '-' : '') + (scale === 0 ? text : `${text.slice(0, -scale)}.${text.slice(-scale)}`)
      }),
    fc.constantFrom(
      '12345678901234567890.123456789',
      '-12345678901234567890.123456789',
      '0',
      '-0',
      '-0.000000001',
      '1e+30',
      '99999999999999999999999999999999999999',
      'NaN', // PostgreSQL numeric can hold NaN and ±Infinity
      '-Infinity',
    ),
  )
  .map((text) => new Decimal(text))
const dateArb = fc.oneof(
  fc.date({ noInvalidDate: true }),
  fc.constantFrom(new Date(0), new Date('9999-12-31T23:59:59.999Z'), new Date('0001-01-01T00:00:00.000Z'), new Date(-8.64e15), new Date(8.64e15)),
)
// fc.uint8Array makes Uint8Arrays (empty ones included); a few are views into a larger buffer,
// as bytes read by a driver can be.
const bytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.uint8Array({ minLength: 4, maxLength: 64 }).map((whole) => whole.subarray(1, whole.length - 1)),
)
const trickyStrings = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '2024-01-01T00:00:00.000Z', '12', '-0', 'NaN', '1e3', 'true', 'null', '']
const stringArb = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom(...trickyStrings))

/**
 * Json column values as Prisma returns them: the result of JSON.parse, so a `__proto__` key is
 * an own data property of a plain object. fc.json alone almost never produces such keys, so
 * objects are also built here from key/value lists as JSON text with tricky keys.
 */
const jsonTextArb: fc.Arbitrary<string> = fc.letrec<{ text: string }>((tie) => ({
  text: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.json({ maxDepth: 2 }),
    fc.constantFrom('-0', '"2024-01-01T00:00:00.000Z"', '"42"', '[[[]],{}]', '{}', '[]'),
    fc.array(fc.tuple(stringArb, tie('text')), { maxLength: 4 }).map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
    fc.array(tie('text'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
  ),
})).text
const jsonArb = fc.oneof(
  jsonTextArb.map((text) => JSON.parse(text) as unknown),
  fc.constantFrom('{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '{"a":{"__proto__":[1,{"__proto__":null}]}}').map(
    (text) => JSON.parse(text) as unknown,
  ),
)

const columns = {
  int: intArb,
  float: floatArb,
  bigint: bigIntArb,
  decimal: decimalArb,
  date: dateArb,
  bytes: bytesArb,
  json: jsonArb,
  bool: fc.boolean(),
  string: stringArb,
}
const nullable = Object.fromEntries(Object.entries(columns).map(([name, arb]) => [name, fc.option(arb as fc.Arbitrary<unknown>, { nil: null })]))
/** A row as `select` returns it: any column may be absent, and any nullable one null. */
const rowArb = fc.record(nullable, { requiredKeys: [], noNullPrototype: true })

/** Rows with included relations: to-one (object or null) and to-many (array), nested. */
const nodeArb: fc.Memo<Record<string, unknown>> = fc.memo((depth) =>
  depth <= 1
    ? rowArb
    : fc.record(
        { ...nullable, author: fc.option(nodeArb(depth - 1), { nil: null }), posts: fc.array(nodeArb(depth - 1), { maxLength: 3 }) },
        { requiredKeys: [], noNullPrototype: true },
      ),
)
/** Anything a Prisma query returns: a row, null, a list of rows, a count, an aggregate. */
const resultArb = fc.oneof(nodeArb(3), fc.array(nodeArb(3), { maxLength: 4 }), fc.constant(null), intArb, fc.constant([]), fc.constant({}))

// ------------------------------------------------------------------ tests

afterEach(() => {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  expect(Object.prototype).not.toHaveProperty('polluted')
})

describe('the type walkers (so that the properties below can fail)', () => {
  it('tell apart what a codec could confuse', () => {
    const cases: Array<[unknown, unknown]> = [
      [new Date(0), new Date(0).toISOString()],
      [1n, 1],
      [new Decimal('1.5'), { ...new Decimal('1.5') }],
      [new Uint8Array([1]), Buffer.from([1])],
      [-0, 0],
      [{ a: null }, {}],
      [{ a: undefined }, {}],
      [JSON.parse('{"__proto__":{"x":1}}'), { __proto__: { x: 1 } }],
      [[1, [2]], [1, [2], 3]],
      [{ a: { b: new Date(1) } }, { a: { b: 1 } }],
    ]
    for (const [expected, actual] of cases) expect(typeDifferences(expected, actual), String(expected)).not.toEqual([])
  })

  it('find shared mutable parts', () => {
    const row = { d: new Date(0), list: [{ b: new Uint8Array([1]) }] }
    expect(sharedMutableParts(row, row)).not.toEqual([])
    expect(sharedMutableParts(row, { ...row })).toEqual(expect.arrayContaining(['$.d', '$.list', '$.list.0.b']))
    expect(sharedMutableParts(row, { d: new Date(0), list: [{ b: row.list[0].b.subarray(0) }] })).toEqual(['$.list.0.b.buffer'])
  })
})

describe('codec round trip', () => {
  it('gives back every Prisma result with the same values and the same types', () => {
    fc.assert(
      fc.property(resultArb, (result) => {
        const text = codec.encode(result)
        expect(text.startsWith('pp1:')).toBe(true)
        const back = codec.decode(text)
        expect(back).toEqual(result)
        sameTypes(result, back)
      }),
      { numRuns: 300 },
    )
  })

  it('keeps each scalar exactly', () => {
    for (const [name, arb] of Object.entries(columns)) {
      fc.assert(
        fc.property(arb as fc.Arbitrary<unknown>, (value) => {
          const back = codec.decode(codec.encode({ [name]: value }))
          expect(back).toEqual({ [name]: value })
          sameTypes({ [name]: value }, back)
        }),
        { numRuns: 200 },
      )
    }
  })

  it('keeps edge values that generators may miss', () => {
    const row = {
      negativeZero: -0,
      nan: NaN,
      inf: Infinity,
      ninf: -Infinity,
      big: -(2n ** 63n),
      decimal: new Decimal('12345678901234567890.123456789'),
      negativeDecimal: new Decimal('-0.000000001'),
      zeroDecimal: new Decimal('-0'),
      epoch: new Date(0),
      far: new Date('9999-12-31T23:59:59.999Z'),
      empty: new Uint8Array(0),
      view: new Uint8Array([9, 8, 7, 6]).subarray(1, 3),
      buffer: Buffer.from('pooled'), // a Buffer comes back as the Uint8Array Prisma 7 would give
      proto: JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}'),
      looksLikeDate: '2024-01-01T00:00:00.000Z',
      looksLikeNumber: '12',
      nested: [[], {}, [[null]]],
      nothing: null,
      undef: undefined,
    }
    const back = codec.decode(codec.encode(row)) as typeof row
    expect(Object.is(back.negativeZero, -0)).toBe(true)
    expect(Number.isNaN(back.nan)).toBe(true)
    expect(back.decimal).toBeInstanceOf(Decimal)
    expect(back.decimal.toFixed()).toBe('12345678901234567890.123456789')
    expect(back.zeroDecimal.isNegative()).toBe(true)
    expect(Object.getPrototypeOf(back.buffer)).toBe(Uint8Array.prototype)
    expect([...back.buffer]).toEqual([...Buffer.from('pooled')])
    expect([...back.view]).toEqual([8, 7])
    expect(back.view.byteLength).toBe(back.view.buffer.byteLength) // only the visible bytes travelled
    expect(Object.getOwnPropertyDescriptor(back.proto, '__proto__')?.value).toEqual({ polluted: 1 })
    expect(Object.getPrototypeOf(back.proto)).toBe(Object.prototype)
    expect(Object.keys(back)).toEqual(Object.keys(row))
    const { buffer: _sent, ...rest } = row
    const { buffer: _got, ...restBack } = back
    expect(restBack).toEqual(rest)
    sameTypes(rest, restBack)
  })

  it('refuses on encode what decode could not give back', () => {
    const refused: Array<[string, unknown]> = [
      ['Map', new Map()],
      ['Set', new Set([1])],
      ['RegExp', /x/],
      ['null-prototype object', Object.create(null)],
      ['class instance', { a: new (class Row {})() }],
      ['function', () => 1],
      ['symbol', Symbol('s')],
    ]
    for (const [label, value] of refused) expect(() => codec.encode(value), label).toThrow(CodecError)
    expect(() => createCodec().encode({ price: new Decimal(1) })).toThrow(CodecError)
  })

  it('refuses a Decimal it cannot rebuild', () => {
    const text = codec.encode({ price: new Decimal('1.5') })
    expect(() => createCodec().decode(text)).toThrow(CodecError)
    const failing = createCodec({ isDecimal: decimalSupport.isDecimal, fromString: () => { throw new Error('no class yet') } })
    expect(() => failing.decode(text)).toThrow(CodecError)
    // Without Decimals in it, an entry decodes without DecimalSupport.
    expect(createCodec().decode(codec.encode({ a: 1n }))).toEqual({ a: 1n })
  })
})

describe('codec on foreign or damaged input', () => {
  const valid = codec.encode({ id: 1, at: new Date(0), price: new Decimal('2.5'), list: [{ b: new Uint8Array([1, 2]) }] })

  it('refuses garbage', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        fc.pre(!text.startsWith('pp1:'))
        expect(() => codec.decode(text)).toThrow(CodecError)
      }),
    )
    for (const text of ['', 'pp1', 'pp1:', 'null', '{}', '[]', 'pp1:{}', 'pp1:[]', 'pp1:"x"', 'pp1:[{"a":7}]', 'pp1:[["Nope",1],1]']) {
      expect(() => codec.decode(text), text).toThrow(CodecError)
    }
  })

  it('refuses another format version', () => {
    for (const prefix of ['pp0:', 'pp2:', 'PP1:', 'pp10:', ' pp1:', '']) {
      expect(() => codec.decode(prefix + valid.slice(4)), prefix).toThrow(CodecError)
    }
  })

  it('refuses every truncation of a valid encoding', () => {
    fc.assert(
      fc.property(resultArb, fc.nat(), (result, cut) => {
        const text = codec.encode(result)
        expect(() => codec.decode(text.slice(0, cut % text.length))).toThrow(CodecError)
      }),
      { numRuns: 300 },
    )
    for (let cut = 0; cut < valid.length; cut++) expect(() => codec.decode(valid.slice(0, cut))).toThrow(CodecError)
  })

  it('only ever throws CodecError or gives a result-shaped value, whatever follows the prefix', () => {
    const bodies = fc.oneof(fc.string(), fc.json(), jsonTextArb)
    const mutated = fc.tuple(fc.nat(), fc.string({ maxLength: 3 })).map(([at, insert]) => {
      const i = at % valid.length
      return valid.slice(0, i) + insert + valid.slice(i + 1)
    })
    fc.assert(
      fc.property(fc.oneof(bodies.map((body) => `pp1:${body}`), mutated), (text) => {
        let value: unknown
        try {
          value = codec.decode(text)
        } catch (error) {
          expect(error).toBeInstanceOf(CodecError)
          return
        }
        expect(onlyResultPrototypes(value)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it('never pollutes a prototype, whatever the payload says', () => {
    const forged = [
      'pp1:[{"__proto__":1},{"polluted":2},1]',
      'pp1:[{"a":1},{"__proto__":3},{"polluted":1},1]',
      'pp1:[["null","__proto__",1],{"polluted":1}]',
      'pp1:{"__proto__":{"polluted":1}}',
    ]
    for (const text of forged) expect(() => codec.decode(text), text).toThrow(CodecError)

    // Our own encoding of an own `__proto__` key, and keys that merely name prototype things,
    // decode to own data properties and nothing else.
    const keyed = codec.decode('pp1:[["Keyed",1],[2,3,4,5],"__proto__",{"polluted":5},"constructor",1]') as Record<string, unknown>
    expect(Object.getPrototypeOf(keyed)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(keyed, '__proto__')?.value).toEqual({ polluted: 1 })
    expect(keyed.constructor).toBe(1)
    const named = codec.decode('pp1:[{"constructor":1,"prototype":3},{"prototype":2},{"polluted":4},{"polluted":4},1]') as Record<string, unknown>
    expect(Object.getPrototypeOf(named)).toBe(Object.prototype)
    expect(named).toEqual({ constructor: { prototype: { polluted: 1 } }, prototype: { polluted: 1 } })
  })

  it('refuses payloads that would build anything but a Prisma result', () => {
    const forged = [
      'pp1:[["Map",1,1],"k"]',
      'pp1:[["Set",1],1]',
      'pp1:[["RegExp","(a+)+$","g"]]',
      'pp1:[["Object",1],"boxed"]',
      'pp1:[["URL","https://example.com/"]]',
      'pp1:[["ArrayBuffer","AAEC"]]',
      'pp1:[["Uint8Array",1],["ArrayBuffer","AAEC"]]', // devalue's own bytes format
      'pp1:[["Float64Array",1],["ArrayBuffer","AAAAAAAAAAA="]]',
      'pp1:[["null","a",1],1]',
      'pp1:[["Decimal",1],[2],3]', // a Decimal from something other than a string
      'pp1:[["Decimal",1],"not a number"]',
      'pp1:[["Bytes",1],"AAEC"]', // bytes not in their one-element list
      'pp1:[["Bytes",1],[2]," not base64 "]',
      'pp1:[["Keyed",1],[2],"a"]', // odd key/value list
      'pp1:[["Keyed",1],[2,3],1,2]', // a non-string key
      'pp1:[["BigInt","1.5"]]',
      'pp1:[{"self":0}]', // a cycle
      'pp1:[[1,1],{"a":2},3]', // one object reached twice
      'pp1:[{"a":1,"b":1},[2,2],[3,3],[]]', // 2^depth paths from a few bytes
    ]
    for (const text of forged) expect(() => codec.decode(text), text).toThrow(CodecError)
  })
})

describe('cloneResult', () => {
  it('copies every Prisma result with the same values and types, sharing nothing mutable', () => {
    fc.assert(
      fc.property(resultArb, (result) => {
        const copy = cloneResult(result, decimalSupport)
        expect(copy).toEqual(result)
        sameTypes(result, copy)
        expect(sharedMutableParts(result, copy)).toEqual([])
      }),
      { numRuns: 300 },
    )
  })

  it('leaves the original untouched when the copy is mutated', () => {
    const original = {
      at: new Date(0),
      bytes: new Uint8Array([1, 2]),
      buffer: Buffer.from('abc'),
      json: JSON.parse('{"__proto__":{"polluted":1},"list":[1]}'),
      price: new Decimal('1.5'),
      posts: [{ id: 1 }],
    }
    const copy = cloneResult(original)
    copy.at.setTime(5)
    copy.bytes[0] = 9
    copy.buffer[0] = 0
    copy.json.list.push(2)
    copy.posts[0].id = 2
    copy.posts.push({ id: 3 })
    expect(original.at.getTime()).toBe(0)
    expect([...original.bytes]).toEqual([1, 2])
    expect(original.buffer.toString()).toBe('abc')
    expect(original.json.list).toEqual([1])
    expect(original.posts).toEqual([{ id: 1 }])
    expect(Buffer.isBuffer(copy.buffer)).toBe(true)
    expect(copy.price).toBe(original.price) // immutable: shared
    expect(Object.getOwnPropertyDescriptor(copy.json, '__proto__')?.value).toEqual({ polluted: 1 })
    expect(Object.getPrototypeOf(copy.json)).toBe(Object.prototype)
  })

  it('copies what the codec decodes', () => {
    fc.assert(
      fc.property(resultArb, (result) => {
        const decoded = codec.decode(codec.encode(result))
        const copy = cloneResult(decoded, decimalSupport)
        expect(copy).toEqual(result)
        sameTypes(result, copy)
        expect(sharedMutableParts(decoded, copy)).toEqual([])
      }),
      { numRuns: 100 },
    )
  })
})
