import { Decimal } from '@prisma/client/runtime/client'
import { describe, expect, it } from 'vitest'
import { cloneResult, clonedSize, cloneSized } from '../../src/cache/clone.ts'
import { estimateSize } from '../../src/cache/store.ts'

function deep(levels: number): unknown {
  let value: unknown = { leaf: 'x' }
  for (let i = 0; i < levels; i++) value = { next: value, list: [i] }
  return value
}

const json = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as unknown

const results: [string, unknown][] = [
  ['a row', { id: 1, name: 'Ada', karma: 5n, at: new Date(0), price: new Decimal('1.5'), bytes: Buffer.from('abc'), none: null, flag: true }],
  ['a list with relations', [{ id: 1, posts: [{ id: 2, tags: ['a', 'bb'] }] }, { id: 3, posts: [] }]],
  ['a Uint8Array', { data: new Uint8Array([1, 2, 3]) }],
  ['a null-prototype object', Object.assign(Object.create(null), { a: 'b' })],
  ['Json with an own __proto__ key', json],
  ['a primitive', 'text'],
  ['null', null],
  ['nesting deeper than the size walk goes', deep(80)],
]

describe('cloneSized', () => {
  it.each(results)('copies %s as cloneResult does and measures it as estimateSize does', (_name, value) => {
    const copied = cloneSized(value)
    const size = clonedSize()
    expect(copied).toEqual(cloneResult(value))
    expect(size).toBe(estimateSize(copied))
    if (typeof value === 'object' && value !== null) expect(copied).not.toBe(value)
  })

  it('copies, so mutating the copy leaves the original as it was', () => {
    const row = { id: 1, tags: ['a'], at: new Date(5), bytes: Buffer.from('x') }
    const value = cloneSized(row)
    value.tags.push('b')
    value.at.setTime(9)
    value.bytes[0] = 0
    expect(row).toEqual({ id: 1, tags: ['a'], at: new Date(5), bytes: Buffer.from('x') })
  })

  it('copies own members only, in their order, as Object.keys lists them (cloneResult too)', () => {
    Object.defineProperty(Object.prototype, 'inherited', { value: 1, enumerable: true, configurable: true, writable: true })
    try {
      const row = { b: 1, a: { y: 2, x: 3 }, 2: 'two', 1: 'one' }
      for (const copied of [cloneSized(row), cloneResult(row)]) {
        expect(Object.keys(copied)).toEqual(['1', '2', 'b', 'a'])
        expect(Object.keys(copied.a)).toEqual(['y', 'x'])
        expect(Object.hasOwn(copied, 'inherited')).toBe(false)
        expect(Object.hasOwn(copied.a, 'inherited')).toBe(false)
      }
      cloneSized(row)
      expect(clonedSize()).toBe(estimateSize(row))
    } finally {
      delete (Object.prototype as Record<string, unknown>).inherited
    }
  })

  it('keeps an own __proto__ key as data, never as the prototype', () => {
    const value = cloneSized(json) as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.keys(value)).toEqual(['__proto__', 'a'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
