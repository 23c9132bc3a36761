// The query hooks that run beneath this extension's own on one client: those of the extensions
// applied after prefetch(), which Prisma runs inside its hook, next to the database. Speculation
// that lets one read stand for another (a batched findMany for single-row reads, a relation
// loaded inside a read for the read of its rows) asks here whether those hooks could tell them
// apart. Read from Prisma's private extension list (prisma-internals.ts); what cannot be read
// counts as hooks that may change anything.

import { extensionList, extensionsOf, type ExtensionArgs } from './prisma-internals.ts'

/** An extension as Prisma keeps it, as far as this module reads it. */
type Extension = Pick<ExtensionArgs, 'query'>

export class HooksBeneath {
  private blind: boolean | undefined
  /** Per `model.operation`: whether a hook beneath runs for it (it cannot change for one client). */
  private readonly byOperation = new Map<string, boolean>()

  constructor(
    /** The client whose hooks these are. */
    private readonly client: unknown,
    /** The extension object prefetch() applied (its `query.$allOperations` is this extension's hook). */
    private readonly own: Extension,
  ) {}

  /**
   * Whether a query hook beneath runs for `operation` of `model` (a schema name, `Post`): with
   * one, a read sent as part of another (a relation of it) would not go through the hooks it goes
   * through alone, so it must not be. True when Prisma's list cannot be read, or does not hold
   * this extension's hook: nothing tells that no hook is there.
   */
  runFor(model: string, operation: string): boolean {
    const name = `${model}.${operation}`
    let found = this.byOperation.get(name)
    if (found === undefined) {
      found = this.read(model, operation)
      this.byOperation.set(name, found)
    }
    return found
  }

  /**
   * Whether the hooks beneath are all for every operation (`$allOperations`, of every model or of
   * all): those are taken to treat a findMany and a findUnique alike, so a row of one may answer
   * the other. Hooks bound to an operation (`query: { user: { findMany } }`) are not. False when
   * the list cannot be read.
   */
  operationBlind(): boolean {
    if (this.blind === undefined) {
      const all: Extension[] | undefined = extensionsOf(this.client)
      const at = all?.lastIndexOf(this.own) ?? -1
      this.blind = all !== undefined && at >= 0 && all.slice(at + 1).every((e) => e.query === undefined || blindQuery(e.query))
    }
    return this.blind
  }

  private read(model: string, operation: string): boolean {
    const list = extensionList(this.client)
    const ownHook = (this.own.query as { $allOperations?: unknown } | undefined)?.$allOperations
    if (list === undefined || typeof list.getAllQueryCallbacks !== 'function' || ownHook === undefined) return true
    // First applied first, as Prisma runs them: those after this extension's hook are beneath it.
    const hooks = list.getAllQueryCallbacks(model[0].toLowerCase() + model.slice(1), operation)
    if (!Array.isArray(hooks)) return true
    const at = hooks.lastIndexOf(ownHook)
    return at < 0 || at < hooks.length - 1
  }
}

/** Whether a `query` component only has hooks for every operation (of every model, or of all). */
function blindQuery(query: object): boolean {
  return Object.entries(query).every(([key, value]) => {
    if (key === '$allOperations') return true
    if (key !== '$allModels') return false
    return value !== null && typeof value === 'object' && Object.keys(value).every((k) => k === '$allOperations')
  })
}
