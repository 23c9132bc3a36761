/**
 * The write path: a write (or raw query) runs, then the generation of every model it may have
 * touched moves on, so that no entry that read one of them is served again; inside an
 * interactive transaction the bump is repeated when the transaction settles; the queries of a
 * batch transaction all take one path. Also `$prefetch.invalidate()`.
 */

import type { GenerationStore } from '../cache/generations.ts'
import type { Stats } from '../stats.ts'
import { writeTargets, type OperationKind } from './classify.ts'
import type { DemandQueries, Query } from './demand.ts'
import type { ReportError } from './errors.ts'
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
  ) {}

  async write(model: string | undefined, operation: string, kind: OperationKind, args: unknown, query: Query, interactiveTransaction: string | undefined): Promise<unknown> {
    this.stats.count('writes', model)
    this.stats.count('dbQueries', model)
    const targets = this.targetsOf(model, operation, kind, args)
    try {
      return await this.demand.send(query, args)
    } finally {
      // Bump even when the write failed: a statement that errored may still have changed rows.
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
    if (kind !== 'read') this.stats.count('writes', model)
    this.stats.count('dbQueries', model)
    const targets = kind === 'read' ? undefined : this.targetsOf(model, operation, kind, args)
    const result = await query(args)
    if (targets !== undefined) await this.bump(targets)
    return result
  }

  /** Every model a write may change; every model when that cannot be told (reported). */
  private targetsOf(model: string | undefined, operation: string, kind: OperationKind, args: unknown): Set<string> {
    try {
      return kind === 'write' ? writeTargets(this.schema, model!, operation, args) : new Set(this.schema.models)
    } catch (error) {
      this.reportError(error, { phase: 'generation', model, operation })
      return new Set(this.schema.models)
    }
  }

  /** Moves the generations of `models` on; every entry that read one of them stops being served. */
  async bump(models: Iterable<string>): Promise<void> {
    const list = [...models]
    if (list.length === 0) return
    for (const model of list) this.stats.count('invalidations', model)
    await this.generations.bump(list)
  }

  /** `$prefetch.invalidate()`: one model, or every model and the whole process cache. */
  async invalidate(model?: string): Promise<void> {
    if (model === undefined) {
      this.clearLocal()
      await this.bump(this.schema.models)
      return
    }
    if (!this.schema.models.includes(model)) {
      throw new TypeError(`prisma-prefetch: invalidate() needs a model of this client (${this.schema.models.join(', ')}): ${JSON.stringify(model)}`)
    }
    await this.bump([model])
  }
}
