// Prisma's private extension list, read in one place (src/middleware/prisma-internals.ts) from a
// real generated client: a Prisma upgrade that moves it fails here. Its two readers treat a list
// that cannot be read apart: speculation cannot be built and says so, the hooks beneath are taken
// to change anything.
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { describe, expect, it } from 'vitest'
import { PrismaClient } from '../../src/generated/prisma/client.ts'
import { Composition } from '../../src/middleware/composition.ts'
import { HooksBeneath } from '../../src/middleware/hooks-beneath.ts'
import { extensionsOf } from '../../src/middleware/prisma-internals.ts'

// A real generated client, never connected: nothing here queries.
type Extendable = { $extends(extension: object): Extendable }
const bare = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: ':memory:' }) }) as unknown as Extendable

describe('extensionsOf', () => {
  it('lists the extensions given to $extends, first applied first, the very objects', () => {
    const first = { name: 'first', result: {} }
    const second = { name: 'second', query: { $allOperations: () => undefined } }
    const listed = extensionsOf(bare.$extends(first).$extends(second))!
    expect(listed.slice(-2)).toEqual([first, second])
    expect(listed[listed.length - 1]).toBe(second)
    expect(extensionsOf(bare)!.includes(first)).toBe(false)
  })

  it('answers undefined for a list it cannot read', () => {
    expect(extensionsOf({})).toBeUndefined()
    expect(extensionsOf({ _extensions: null })).toBeUndefined()
    expect(extensionsOf(null)).toBeUndefined()
  })

  it('leaves what an unreadable list means to its readers: speculation fails loudly, hooks beneath may change anything', async () => {
    const own = { name: 'own', query: { $allOperations: () => undefined } }
    const composition = new Composition({} as never, own, undefined as never, () => ({}))
    await expect(composition.execute('User', 'findUnique', { where: { id: 1 } })).rejects.toThrow('cannot read the extensions of this client')
    expect(new HooksBeneath({}, own).operationBlind()).toBe(false)
    expect(new HooksBeneath({}, own).runFor('User', 'findUnique')).toBe(true)
  })
})
