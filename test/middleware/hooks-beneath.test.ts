// Which query hooks run beneath an extension's own, read from a real client's extension list
// (Prisma's private `_extensions`): a Prisma upgrade that moves it fails here, loudly, and a list
// that cannot be read counts as hooks that may change anything.
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { describe, expect, it } from 'vitest'
import { PrismaClient } from '../../src/generated/prisma/client.ts'
import { HooksBeneath } from '../../src/middleware/hooks-beneath.ts'

// Real generated clients, never connected: nothing here queries.
type Extendable = { $extends(extension: object): Extendable }
const bare = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: ':memory:' }) }) as unknown as Extendable
type Hook = (params: { args: unknown; query: (args: unknown) => unknown }) => unknown
/** A new pass-through hook: each extension's is its own function, as each prefetch() hook is. */
const hook = (): Hook => ({ args, query }) => query(args)
const pass = hook()
/** An extension shaped like prefetch()'s: one `$allOperations` hook. */
const own = () => ({ name: 'own', query: { $allOperations: hook() } })

describe('HooksBeneath', () => {
  it('sees no hook beneath when none is applied after the extension, whatever is applied before it', () => {
    const ext = own()
    const client = bare.$extends({ query: { $allModels: { $allOperations: pass } } }).$extends(ext)
    const hooks = new HooksBeneath(client, ext)
    expect(hooks.runFor('User', 'findUnique')).toBe(false)
    expect(hooks.runFor('Post', 'findMany')).toBe(false)
    expect(hooks.operationBlind()).toBe(true)
  })

  it('sees a hook beneath for its model and operation only, and $allOperations hooks for all', () => {
    const ext = own()
    const onUser = new HooksBeneath(bare.$extends(ext).$extends({ query: { user: { findUnique: pass } } }), ext)
    expect(onUser.runFor('User', 'findUnique')).toBe(true)
    expect(onUser.runFor('User', 'findMany')).toBe(false)
    expect(onUser.runFor('Post', 'findUnique')).toBe(false)
    expect(onUser.operationBlind()).toBe(false)

    const everywhere = new HooksBeneath(bare.$extends(ext).$extends({ query: { $allModels: { $allOperations: pass } } }), ext)
    expect(everywhere.runFor('Post', 'findUnique')).toBe(true)
    expect(everywhere.runFor('Tag', 'findMany')).toBe(true)
    expect(everywhere.operationBlind()).toBe(true)

    const topLevel = new HooksBeneath(bare.$extends(ext).$extends({ query: { $allOperations: pass } }), ext)
    expect(topLevel.runFor('User', 'findFirst')).toBe(true)
  })

  it('takes a list it cannot read, or that does not hold the extension, for hooks beneath everywhere', () => {
    const ext = own()
    expect(new HooksBeneath({}, ext).runFor('User', 'findUnique')).toBe(true)
    expect(new HooksBeneath({ _extensions: {} }, ext).runFor('User', 'findUnique')).toBe(true)
    expect(new HooksBeneath({}, ext).operationBlind()).toBe(false)
    expect(new HooksBeneath(bare.$extends(own()), ext).runFor('User', 'findUnique')).toBe(true)
  })
})
