/**
 * The serving core of one extended client, and the router of every query its hook sees: reads
 * outside transactions go to the read path, reads inside an interactive transaction (and fluent
 * reads) straight to the database, writes, raw queries and every query of a batch transaction to
 * the write path. Builds the read path, the write path, the flights and the speculative runner
 * over one set of entries and hands each what it needs; they talk through signals and constructor
 * arguments only.
 */

import { DEFAULTS, type ResolvedOptions } from '../options.ts'
import type { Stats } from '../stats.ts'
import { classify } from './classify.ts'
import { DemandQueries } from './demand.ts'
import { QueryEntries } from './entries.ts'
import { errorReporter, type ReportError } from './errors.ts'
import { Flights } from './flights.ts'
import { isFluentRead } from './fluent.ts'
import { Latencies } from './latency.ts'
import { ReadPath } from './read-path.ts'
import type { SchemaInfo } from './schema.ts'
import type { Sessions } from './session.ts'
import { ShadowReads } from './shadow.ts'
import { Signal } from './signal.ts'
import { Speculator } from './speculation.ts'
import { transactionOf, UnsettledWrites } from './transaction.ts'
import { SpeculationUsage } from './usage.ts'
import { WritePath } from './write-path.ts'

/** What Prisma hands a `$allOperations` query extension. */
export interface OperationParams {
  model?: string
  operation: string
  args: unknown
  query: (args: unknown) => Promise<unknown>
  __internalParams?: unknown
}

export interface RouterSetup {
  options: ResolvedOptions
  schema: SchemaInfo
  stats: Stats
  sessions: Sessions
  /** Milliseconds after which an interactive transaction is taken to have settled. */
  transactionTimeoutMs: number
  /** `resultFingerprint()` of the client (see fingerprint.ts). */
  fingerprint: string
  /** Whether rows of one read may answer another operation (see QueryEntries.rowsShared). */
  rowsShared: () => boolean
}

export class QueryRouter {
  readonly entries: QueryEntries
  /** Whether each speculative result was used (precision). */
  readonly usage: SpeculationUsage
  readonly reads: ReadPath
  readonly writes: WritePath
  readonly speculator: Speculator
  readonly demand = new DemandQueries()
  /** Database latency of demand reads, by model and operation. */
  readonly latency = new Latencies()
  /** Emitted when the database shows strain: a failed demand or speculative read. */
  readonly pressure = new Signal()
  readonly reportError: ReportError
  private readonly unsettled: UnsettledWrites
  private closed = false

  constructor(private readonly setup: RouterSetup) {
    const { options, schema, stats, sessions } = setup
    this.reportError = errorReporter(stats, options.onError)
    const usage = (this.usage = new SpeculationUsage(stats, this.latency))
    const flights = new Flights(stats, usage)
    this.unsettled = new UnsettledWrites(setup.transactionTimeoutMs, (models) => this.writes.bump(models))
    this.entries = new QueryEntries(options, schema, sessions, this.unsettled, this.reportError, setup.fingerprint, (s) => usage.disposed(s), setup.rowsShared)
    const shadow = options.shadow ? new ShadowReads(options.l1 ? options.l1.maxEntries : DEFAULTS.l1.maxEntries, stats, usage, options.monotonic) : undefined
    this.reads = new ReadPath(options, this.entries, flights, this.demand, stats, usage, this.latency, this.pressure, this.reportError, shadow)
    this.writes = new WritePath(schema, this.entries.generations, this.unsettled, this.demand, stats, this.reportError, () => this.entries.results.clearLocal(), options.rowGenerations)
    this.speculator = new Speculator(this.entries, flights, stats, usage, this.pressure, this.reportError, shadow)
    // Keyv reports many of its adapters' failures only as events: count them too.
    options.cache?.on?.('error', this.storeErrorEvent)
  }

  handle(params: OperationParams): Promise<unknown> {
    const { model, operation, args, query } = params
    const kind = classify(model, operation)
    const transaction = transactionOf(params.__internalParams)
    if (transaction?.kind === 'itx') this.unsettled.touch(transaction.id)
    if (transaction?.kind === 'batch') return this.writes.inBatch(model, operation, kind, args, query)
    if (kind === 'read') {
      if (transaction !== undefined || this.closed || isFluentRead(params.__internalParams)) {
        // Inside a transaction the cache is neither read nor written; nor for a fluent read,
        // whose result has another shape than the plain read with the same arguments.
        this.setup.stats.count('dbQueries', model)
        return query(args)
      }
      return this.reads.read(model!, operation, args, query)
    }
    return this.writes.write(model, operation, kind, args, query, transaction?.kind === 'itx' ? transaction.id : undefined)
  }

  /** Runs the application's `$transaction` call; what it wrote settles when it returns. */
  transaction<T>(call: () => Promise<T>): Promise<T> {
    return this.unsettled.around(call)
  }

  /** Resolves when no speculative read is running and no store write is pending. */
  async idle(): Promise<void> {
    await this.speculator.idle()
    await this.entries.results.settled()
  }

  /** Stops caching (queries go straight to the database), settles every timer and pending write. */
  async close(): Promise<void> {
    this.closed = true
    this.entries.closed = true
    this.speculator.close()
    this.unsettled.settleAll()
    await this.idle()
    await this.entries.generations.close?.()
    this.setup.options.cache?.off?.('error', this.storeErrorEvent)
  }

  private readonly storeErrorEvent = (error: unknown) => this.reportError(error, { phase: 'store' })
}
