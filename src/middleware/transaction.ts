/**
 * Which transaction a query runs in, and the writes of interactive transactions whose
 * generations are bumped once they settle.
 */

import { AsyncLocalStorage } from 'node:async_hooks'

/** The transaction a query runs in, as Prisma passes it to query extensions. */
export interface TransactionInfo {
  kind: 'itx' | 'batch'
  id: string
}

/**
 * Reads the transaction of a query from the private `__internalParams` Prisma hands to query
 * extensions (`@prisma/extension-read-replicas` relies on the same field). Kept in this one
 * function, with a test, so that a Prisma upgrade that moves it fails loudly.
 */
export function transactionOf(internalParams: unknown): TransactionInfo | undefined {
  const transaction = (internalParams as { transaction?: { kind?: unknown; id?: unknown } } | undefined)?.transaction
  if (transaction === undefined || transaction === null) return undefined
  const kind = transaction.kind === 'batch' ? 'batch' : 'itx'
  return { kind, id: String(transaction.id) }
}

/**
 * Models written inside interactive transactions that may not have committed yet.
 *
 * A write inside one bumps its models at once (no entry cached before it is served again) and
 * leaves them *unsettled*: no read of them is stored until the transaction is over, when they
 * are bumped again. A read that ran between the write and the commit therefore never leaves an
 * old value behind in the cache. The end is known when the application's `$transaction` call
 * on the extended client returns (`around`); Prisma does not tell an extension otherwise, so a
 * transaction opened elsewhere (on the client beneath the extension) settles when it must be
 * over: its timeout after its last operation.
 */
export class UnsettledWrites {
  private readonly transactions = new Map<string, { models: Set<string>; timer: NodeJS.Timeout }>()
  private readonly counts = new Map<string, number>()
  /** The interactive transactions that wrote inside the `$transaction` call being run. */
  private readonly scope = new AsyncLocalStorage<Set<string>>()

  constructor(
    private readonly timeoutMs: number,
    private readonly bump: (models: Set<string>) => Promise<void>,
  ) {}

  /**
   * Runs one `$transaction` call of the application: once it has returned or thrown, Prisma has
   * committed or rolled back, so the transactions that wrote inside it settle then (their second
   * bump awaited before the caller goes on, so no process serves a read of theirs begun after
   * it). A call inside another one (a nested transaction) is settled with the outer one.
   */
  async around<T>(call: () => Promise<T>): Promise<T> {
    if (this.scope.getStore() !== undefined) return call()
    const wrote = new Set<string>()
    try {
      return await this.scope.run(wrote, call)
    } finally {
      await Promise.all([...wrote].map((id) => this.settle(id)))
    }
  }

  /** Records that `models` were written in transaction `id`; (re)starts its deadline. */
  record(id: string, models: Iterable<string>): void {
    this.scope.getStore()?.add(id)
    let open = this.transactions.get(id)
    if (open === undefined) {
      open = { models: new Set(), timer: this.deadline(id) }
      this.transactions.set(id, open)
    }
    for (const model of models) {
      if (open.models.has(model)) continue
      open.models.add(model)
      this.counts.set(model, (this.counts.get(model) ?? 0) + 1)
    }
  }

  /** Another operation of transaction `id` ran: it is still open, so push its deadline back. */
  touch(id: string): void {
    const open = this.transactions.get(id)
    if (open === undefined) return
    clearTimeout(open.timer)
    open.timer = this.deadline(id)
  }

  /** Whether any of `models` has a write that may not have committed. */
  anyUnsettled(models: readonly string[]): boolean {
    if (this.counts.size === 0) return false
    return models.some((model) => this.counts.has(model))
  }

  /** Settles everything now (on close). */
  settleAll(): void {
    for (const id of [...this.transactions.keys()]) this.settle(id)
  }

  private deadline(id: string): NodeJS.Timeout {
    const timer = setTimeout(() => void this.settle(id), this.timeoutMs)
    timer.unref()
    return timer
  }

  private settle(id: string): Promise<void> | undefined {
    const open = this.transactions.get(id)
    if (open === undefined) return undefined
    clearTimeout(open.timer)
    this.transactions.delete(id)
    for (const model of open.models) {
      const count = (this.counts.get(model) ?? 1) - 1
      if (count === 0) this.counts.delete(model)
      else this.counts.set(model, count)
    }
    return this.bump(open.models)
  }
}
