/**
 * Which transaction a query runs in, and the writes of interactive transactions whose
 * generations are bumped once they settle.
 */

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
 * Prisma does not tell an extension when an interactive transaction ends, so a write inside one
 * bumps its models at once (no entry cached before it is served again) and leaves them
 * *unsettled*: no read of them is stored until the transaction must be over (its timeout after
 * its last operation), when they are bumped again. A read that ran between the write and the
 * commit therefore never leaves an old value behind in the cache.
 */
export class UnsettledWrites {
  private readonly transactions = new Map<string, { models: Set<string>; timer: NodeJS.Timeout }>()
  private readonly counts = new Map<string, number>()

  constructor(
    private readonly timeoutMs: number,
    private readonly bump: (models: Set<string>) => void,
  ) {}

  /** Records that `models` were written in transaction `id`; (re)starts its deadline. */
  record(id: string, models: Iterable<string>): void {
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
    const timer = setTimeout(() => this.settle(id), this.timeoutMs)
    timer.unref()
    return timer
  }

  private settle(id: string): void {
    const open = this.transactions.get(id)
    if (open === undefined) return
    clearTimeout(open.timer)
    this.transactions.delete(id)
    for (const model of open.models) {
      const count = (this.counts.get(model) ?? 1) - 1
      if (count === 0) this.counts.delete(model)
      else this.counts.set(model, count)
    }
    this.bump(open.models)
  }
}
