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

  it('behaves as a least-recently-remembered list of at most max keys, remembering the most recent key again included (property)', () => {
    // Runs of the same key (a session's reads one after the other) take the shortcut for the most recent key.
    const key = fc.oneof(fc.nat(8), fc.constant(0))
    const step = fc.tuple(fc.constantFrom('remember', 'remember', 'touch', 'delete', 'set', 'clear'), key)
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(step, { maxLength: 80 }), (max, steps) => {
        const map = new BoundedMap<number, number>(max)
        let model: number[] = [] // keys, least recent first
        const values = new Map<number, number>()
        steps.forEach(([step, key], i) => {
          if (step === 'remember') {
            map.remember(key, i)
            values.set(key, i)
            model = [...model.filter((k) => k !== key), key]
            if (model.length > max) model.shift()
          } else if (step === 'set') {
            map.set(key, i)
            values.set(key, i)
            if (!model.includes(key)) model = [...model, key]
            if (model.length > max) model.shift()
          } else if (step === 'clear') {
            map.clear()
            model = []
          } else if (step === 'touch') {
            map.touch(key)
            if (model.includes(key)) model = [...model.filter((k) => k !== key), key]
          } else {
            map.delete(key)
            model = model.filter((k) => k !== key)
          }
          expect([...map.keys()]).toEqual(model)
          expect([...map.values()]).toEqual(model.map((k) => values.get(k)))
          expect(map.size).toBeLessThanOrEqual(max)
        })
      }),
    )
  })
})
