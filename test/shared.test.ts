import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sortedStrings } from '../src/shared.ts'

describe('sortedStrings', () => {
  it('gives the order of [...set].sort(), code unit by code unit, surrogate pairs and prefixes included', () => {
    const piece = fc.oneof(fc.constantFrom('User', 'User#rows', 'User#id=n1', 'Post', '#', '', 'é', '\u{1F600}', '\uFF61', 'a', 'A'), fc.string({ unit: 'binary', maxLength: 4 }))
    fc.assert(
      fc.property(fc.array(fc.array(piece, { maxLength: 3 }).map((parts) => parts.join('')), { maxLength: 20 }), (strings) => {
        const set = new Set(strings)
        expect(sortedStrings(set)).toEqual([...set].sort())
      }),
      { numRuns: 300 },
    )
    expect(sortedStrings(new Set(['User#rows', 'User', 'User#id=n1', 'Comment']))).toEqual(['Comment', 'User', 'User#id=n1', 'User#rows'])
  })
})
