import { describe, expect, it } from 'vitest'
import { sentAs } from '../../src/middleware/speculation.ts'

// How a speculative single-row read is sent beneath the extension (see sentAs).
const selectors = [
  { name: 'id', fields: ['id'] },
  { name: 'email', fields: ['email'] },
  { name: 'cartId_itemId', fields: ['cartId', 'itemId'] },
]

describe('sentAs', () => {
  it('sends findUnique and findUniqueOrThrow by a single-field key as findFirst and findFirstOrThrow', () => {
    expect(sentAs(selectors, 'findUnique', { where: { id: 1 }, select: { name: true } }, true)).toBe('findFirst')
    expect(sentAs(selectors, 'findUniqueOrThrow', { where: { email: 'a@x' } }, true)).toBe('findFirstOrThrow')
  })

  it('leaves a read by a compound key, any other operation, an unknown schema and hooks that tell operations apart as they are', () => {
    expect(sentAs(selectors, 'findUnique', { where: { cartId_itemId: { cartId: 1, itemId: 2 } } }, true)).toBe('findUnique')
    expect(sentAs(selectors, 'findMany', { where: { id: { in: [1] } } }, true)).toBe('findMany')
    expect(sentAs(undefined, 'findUnique', { where: { id: 1 } }, true)).toBe('findUnique')
    expect(sentAs(selectors, 'findUnique', { where: { id: 1 } }, false)).toBe('findUnique')
    expect(sentAs(selectors, 'findUnique', null, true)).toBe('findUnique')
  })
})
