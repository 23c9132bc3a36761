import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { locationsOf, MAX_LOCATIONS, summarize, type Location, type Step } from '../../src/strategies/steps.ts'
import { TemplateTable } from '../../src/strategies/template.ts'
import { matchKey } from '../../src/strategies/values.ts'

/**
 * The reference for `locationsOf`: every matchable value of `step` and where it occurs (argument
 * slots first, then rows in order, at most MAX_LOCATIONS each), keyed by `matchKey`.
 */
function indexOf(step: Step): Map<string, Location[]> {
  const index = new Map<string, Location[]>()
  const add = (value: unknown, location: Location) => {
    const key = matchKey(value)
    if (key === undefined) return
    const list = index.get(key)
    if (list === undefined) index.set(key, [location])
    else if (list.length < MAX_LOCATIONS) list.push(location)
  }
  step.values.forEach((value, slot) => add(value, { kind: 'argument', slot }))
  step.result?.rows.forEach((row, r) => row.forEach((value, field) => add(value, { kind: 'row', row: r, field })))
  return index
}

// Cells that collide in every way a key can: 5, 5n, "5", equal Dates, -0 and 0, booleans and nulls.
const cell = fc.oneof(
  fc.constantFrom(0, -0, 5, 7, NaN, Infinity, true, false, null, '', '5', 'a', 5n, 7n),
  fc.constantFrom(...[0, 5, 7].map((t) => t)).map((t) => new Date(t)),
  fc.array(fc.constantFrom(5, 7), { maxLength: 2 }),
)

describe('locationsOf', () => {
  it('finds what an index of the step holds under the value key, in the same order and as many', () => {
    const table = new TemplateTable(10)
    fc.assert(
      fc.property(fc.array(cell, { maxLength: 4 }), fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { maxLength: 12 }), cell, (args, rows, value) => {
        fc.pre(matchKey(value) !== undefined)
        const templated = table.resolve({ model: 'Post', operation: 'findMany', args: { where: { OR: args.map((a, i) => ({ [`f${i}`]: a })) } } })!
        const result = rows.map((r) => ({ a: r[0], b: r[1], c: r[2] }))
        const step: Step = { template: templated.template, values: args, result: summarize(result, 50), at: 0 }
        expect(locationsOf(step, value)).toEqual(indexOf(step).get(matchKey(value)!) ?? [])
      }),
      { numRuns: 500 },
    )
  })
})

describe('summarize', () => {
  it('keeps the top-level and nested fields of the leading rows and of the last one', () => {
    const when = new Date(5)
    const rows = [1, 2, 3, 4].map((id) => ({ id, title: `t${id}`, author: { id: id * 10, joined: when, tags: ['x'] }, comments: [{ id: 1 }] }))
    expect(summarize(rows, 2)).toEqual({
      single: false,
      fields: ['id', 'title', 'author.id', 'author.joined'],
      rows: [
        [1, 't1', 10, when],
        [2, 't2', 20, when],
      ],
      last: [4, 't4', 40, when],
      length: 4,
    })
    // A later row without the nested object gives undefined for its fields.
    expect(summarize([rows[0], { id: 9, title: 'x', author: null }], 5)!.rows[1]).toEqual([9, 'x', undefined, undefined])
    expect(summarize(rows[0], 5)).toEqual({ single: true, fields: ['id', 'title', 'author.id', 'author.joined'], rows: [[1, 't1', 10, when]], last: undefined, length: 1 })
  })
})
