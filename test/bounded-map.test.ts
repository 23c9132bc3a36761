import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BoundedMap } from '../src/bounded-map.ts'

describe('BoundedMap', () => {
  it('forgets the least recently remembered key when a new one would pass the bound', () => {
    const map = new BoundedMap<string, number>(2)
    map.remember('a', 1).remember('b', 2)
    map.remember('a', 3) // a is now the most recent
    map.remember('c', 4)
    expect([...map]).toEqual([
      ['a', 3],
      ['c', 4],
    ])
  })

  it('makes a key the most recent on touch(), and leaves the order alone on get() and set() of a known key', () => {
    const map = new BoundedMap<string, number>(2)
    map.set('a', 1).set('b', 2)
    expect(map.get('a')).toBe(1)
    map.set('a', 5)
    expect([...map.keys()]).toEqual(['a', 'b'])
    expect(map.touch('a')).toBe(5)
    expect(map.touch('missing')).toBeUndefined()
    map.set('c', 3)
    expect([...map.keys()]).toEqual(['a', 'c'])
  })

  it('refuses a bound that is not a positive integer', () => {
    for (const max of [0, -1, 1.5, Number.NaN, Infinity]) expect(() => new BoundedMap(max)).toThrow(/prisma-prefetch: a bounded map needs a positive integer bound/)
  })

  it('behaves as a least-recently-remembered list of at most max keys (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.tuple(fc.constantFrom('remember', 'touch', 'delete'), fc.nat(8)), { maxLength: 60 }), (max, steps) => {
        const map = new BoundedMap<number, number>(max)
        let model: number[] = [] // keys, least recent first
        steps.forEach(([step, key], i) => {
          if (step === 'remember') {
            map.remember(key, i)
            model = [...model.filter((k) => k !== key), key]
            if (model.length > max) model.shift()
          } else if (step === 'touch') {
            map.touch(key)
            if (model.includes(key)) model = [...model.filter((k) => k !== key), key]
          } else {
            map.delete(key)
            model = model.filter((k) => k !== key)
          }
          expect([...map.keys()]).toEqual(model)
          expect(map.size).toBeLessThanOrEqual(max)
        })
      }),
    )
  })
})
