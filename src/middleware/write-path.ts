/**
 * The write path: a write (or raw query) runs, then the generations of everything it may have
 * changed move on (row-generations.ts: the rows it is known to have changed, or whole models),
 * so that no entry that read one of them is served again; inside an
 * interactive transaction the bump is repeated when the transaction settles; the queries of a
 * batch transaction all take one path. Also `$prefetch.invalidate()`.
 */

import type { GenerationStore } from '../cache/generations.ts'
import type { Stats } from '../stats.ts'
import { wholeModelKeys } from '../cache/generations.ts'
import type { OperationKind } from './classify.ts'
import type { DemandQueries, Query } from './demand.ts'
import type { ReportError } from './errors.ts'
import { modelsOfKeys, writeKeys } from './row-generations.ts'
import type { SchemaInfo } from './schema.ts'
import type { UnsettledWrites } from './transaction.ts'

export class WritePath {
  constructor(
    private readonly schema: SchemaInfo,
    private readonly generations: GenerationStore,
    private readonly unsettled: UnsettledWrites,
    private readonly demand: DemandQueries,
    private readonly stats: Stats,
    private readonly reportError: ReportError,
    /** Drops every entry held in process memory (`invalidate()` of every model). */
    private readonly clearLocal: () => void,
    /** Whether writes move row generations on (`rowGenerations`), rather than whole models. */
    private readonly rows: boolean,
  ) {}

  async write(model: string | undefined, operation: string, kind: OperationKind, args: unknown, query: Query, interactiveTransaction: string | undefined): Promise<unknown> {
    this.stats.count('writes', model, 1, operation)
    this.stats.count('dbQueries', model)
    let outcome: { result: unknown } | undefined
    try {
      const result = await this.demand.send(query, args)
      outcome = { result }
      return result
    } finally {
      // Bump even when the write failed: a statement that errored may still have changed rows
      // (without a result, which ones is not known: its models are bumped whole).
      const targets = this.targetsOf(model, operation, kind, args, outcome)
      if (interactiveTransaction !== undefined) this.unsettled.record(interactiveTransaction, targets)
      await this.bump(targets)
    }
  }

  /**
   * One query of a batch `$transaction([...])`. Nothing is served from or stored to the cache.
   * Every query of the batch, read or write, takes the same path to the database and back: Prisma
   * rejects them all when the batch fails and `$transaction` reports the first rejection it sees,
   * so a write that took longer on the way back than the reads beside it (its generation bump)
   * would change which query the caller's error names. A failed batch rolled back whole, so a
   * rejected write has nothing to bump; a committed one bumps before it resolves.
   */
  async inBatch(model: string | undefined, operation: string, kind: OperationKind, args: unknown, query: Query): Promise<unknown> {
    if (kind !== 'read') this.stats.count('writes', model, 1, operation)
    this.stats.count('dbQueries', model)
    const result = await query(args)
    if (kind !== 'read') await this.bump(this.targetsOf(model, operation, kind, args, { result }))
    return result
  }

  /**
   * The generation keys a write moves on: the rows it is known to have changed and the models it
   * may have changed; every model, whole, when that cannot be told (reported).
   */
  private targetsOf(model: string | undefined, operation: string, kind: OperationKind, args: unknown, outcome: { result: unknown } | undefined): Set<string> {
    try {
      return writeKeys(this.schema, this.rows, model, operation, kind, args, outcome)
    } catch (error) {
      this.reportError(error, { phase: 'generation', model, operation })
      return new Set(this.schema.models.flatMap(wholeModelKeys))
    }
  }

  /** Moves the generations of `keys` on; every entry that read one of them stops being served. */
  async bump(keys: Iterable<string>): Promise<void> {
    const list = [...keys]
    if (list.length === 0) return
    for (const model of modelsOfKeys(list)) this.stats.count('invalidations', model)
    await this.generations.bump(list)
  }

  /** `$prefetch.invalidate()`: one model, or every model and the whole process cache. */
  async invalidate(model?: string): Promise<void> {
    if (model === undefined) {
      this.clearLocal()
      await this.bump(this.schema.models.flatMap(wholeModelKeys))
      return
    }
    if (!this.schema.models.includes(model)) {
      throw new TypeError(`prisma-prefetch: invalidate() needs a model of this client (${this.schema.models.join(', ')}): ${JSON.stringify(model)}`)
    }
    await this.bump(wholeModelKeys(model))
  }
}
