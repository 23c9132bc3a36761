/**
 * The speculation runner's planner: shows each completed or started read to the predictors,
 * ranks their candidates and queues them with the scheduler, and chains from the speculative
 * reads it sends to what is predicted to follow them.
 */

import { BoundedMap } from '../bounded-map.ts'
import { cloneResult } from '../cache/clone.ts'
import { canonicalArgs } from '../canonical.ts'
import { DEFAULTS, type ResolvedOptions } from '../options.ts'
import type { Stats } from '../stats.ts'
import { predict, predictFollowers } from '../strategies/combine.ts'
import { LearnedPredictor, type LearnedModel } from '../strategies/learner.ts'
import { batchRowReads } from '../strategies/row-batches.ts'
import { RulePredictor } from '../strategies/rules.ts'
import type { Backoff, Candidate, FanOut, ObservedQuery, Predictor, SessionRef } from '../strategies/types.ts'
import { Adaptation } from './adaptation.ts'
import type { DemandQueries } from './demand.ts'
import type { ReportError } from './errors.ts'
import type { Latencies } from './latency.ts'
import { CpuPressure, sessionSampled, type UtilizationSource } from './cpu-pressure.ts'
import type { CompletedRead, StartedRead } from './read-path.ts'
import { whyInvalid } from './query-check.ts'
import type { SchemaInfo } from './schema.ts'
import { Scheduler } from './scheduler.ts'
import type { Sessions } from './session.ts'
import type { KeptRow, Speculator } from './speculation.ts'

/** Sends a read on the client beneath the extension (so it does not come back through it). */
export type Execute = (model: string, operation: string, args: unknown) => Promise<unknown>

/** What the prefetcher works with, handed over when it is built. */
export interface PrefetcherParts {
  /** Runs the speculative reads it schedules. */
  speculator: Speculator
  /** Database latency of demand reads: what a read saves, and signs of pressure. */
  latency: Latencies
  /** The application's queries in flight (the pool check), and when one settles. */
  demand: DemandQueries
  /** Whether a batched read may stand for single-row reads (see QueryEntries.rowsShared). */
  rowsShared: () => boolean
  sessions: Sessions
  stats: Stats
  execute: Execute
  reportError: ReportError
  schema: SchemaInfo
  /** The event loop's utilisation (tests feed their own); Node's own measure when absent. */
  utilization?: UtilizationSource
}

/** `$prefetch.model()`: what was learned, and the rules given. */
export interface PrefetchModel extends LearnedModel {
  rules: { from: string; to: string; probability: number }[]
}

/**
 * Turns completed reads into speculative ones: shows each read to the predictors (learned
 * transitions and the application's rules), ranks their candidates and queues them with the
 * scheduler, by probability times the time they would save, above a threshold that adapts as
 * the speculative limit does (adaptation.ts). A predictor failure is reported and never reaches
 * the query.
 */
export class Prefetcher {
  readonly learner: LearnedPredictor | undefined
  private readonly predictors: Predictor[] = []
  /** The application's rules alone: what a session the back-off leaves out is still shown to. */
  private readonly rules: Predictor[] = []
  readonly scheduler: Scheduler
  /** The speculative limit and the threshold, as they adapt. */
  private readonly adaptation: Adaptation
  /** Levels of prediction from one read (`learn.chainDepth`). */
  private readonly chainDepth: number
  /** `learn.maxFanOutBytes`: estimated bytes of the rows one fan-out keeps. */
  private readonly maxFanOutBytes: number
  /** `learn.maxFanOut`: rows one fan-out fetches, and rows of a batch chaining follows. */
  private readonly maxFanOut: number
  /** Mean estimated bytes of a row, per fan-out shape seen (one per template at most). */
  private readonly fanOutRowBytes: BoundedMap<string, number>
  /** CPU-aware speculation (`cpu`): pauses the scheduler while the event loop is too busy. */
  private readonly cpu: CpuPressure | undefined
  /** What the learner is told while the loop is too busy (`cpu.learnEvery`, `cpu.settledAfter`). */
  private readonly backoff: Backoff | undefined

  private readonly speculator: Speculator
  private readonly latency: Latencies
  private readonly rowsShared: () => boolean
  private readonly sessions: Sessions
  private readonly stats: Stats
  private readonly execute: Execute
  private readonly reportError: ReportError
  private readonly schema: SchemaInfo

  constructor(
    private readonly options: ResolvedOptions,
    parts: PrefetcherParts,
  ) {
    const { stats, reportError, demand } = parts
    this.speculator = parts.speculator
    this.latency = parts.latency
    this.rowsShared = parts.rowsShared
    this.sessions = parts.sessions
    this.stats = stats
    this.execute = parts.execute
    this.reportError = reportError
    this.schema = parts.schema
    if (options.learn !== undefined) this.predictors.push((this.learner = new LearnedPredictor(options.learn)))
    if (options.rules.length > 0) {
      this.rules.push(new RulePredictor(options.rules, (error, r) => reportError(error, { phase: 'predict', model: r.to.model, operation: r.to.operation })))
      this.predictors.push(...this.rules)
    }
    const learn = options.learn ?? DEFAULTS.learn
    this.chainDepth = learn.chainDepth
    this.maxFanOutBytes = learn.maxFanOutBytes
    this.maxFanOut = learn.maxFanOut
    this.fanOutRowBytes = new BoundedMap(learn.maxTemplates)
    const { connections, reserve } = options.concurrency
    // With the pool's size known, speculation leaves `reserve` connections to the application.
    const room = connections === undefined ? undefined : (running: number) => running + demand.inFlight + reserve < connections
    this.scheduler = new Scheduler(
      { ...options.concurrency, maxQueue: options.maxQueue, queueTimeout: options.queueTimeout },
      stats,
      () => performance.now(),
      room,
    )
    if (room) demand.settled.subscribe(() => this.scheduler.poke())
    const { minProbability, targetPrecision } = options
    this.adaptation = new Adaptation({ minProbability, targetPrecision, global: options.concurrency.global }, this.scheduler, this.latency, stats)
    // A busy loop pauses speculation until a calm window (see docs/performance.md).
    if (options.cpu !== false && this.active) {
      this.cpu = new CpuPressure(
        options.cpu,
        {
          busy: () => this.scheduler.pause(),
          calm: () => this.scheduler.resume(),
          paused: (ms) => stats.cpuBackoff(ms),
        },
        parts.utilization,
      )
      const { learnEvery, settledAfter } = options.cpu
      this.backoff = { learnEvery, settledAfter, sampledOut: () => stats.cpuSampledOut() }
    }
  }

  /** The probability below which candidates are not run now. */
  get threshold(): number {
    return this.adaptation.threshold
  }

  /** Whether there is anything to predict with at all. */
  get active(): boolean {
    return this.predictors.length > 0
  }

  /** Whether the learner is shown `session`'s reads now: always while calm; while busy, 1 session in `cpu.learnEvery` (sticky, `sessionSampled`). */
  observes(session: SessionRef | undefined): boolean {
    return this.cpu?.busy !== true || session === undefined || sessionSampled(session.sessionId, this.backoff!.learnEvery)
  }

  /** `observes` for the session of the current call (looked up only while the loop is busy). */
  observesNow(): boolean {
    return this.cpu?.busy !== true || this.observes(this.sessions.current())
  }

  /** Called after every read outside transactions. Never throws. */
  observe(read: CompletedRead): void {
    try {
      this.cpu?.tick()
      const busy = this.cpu?.busy === true
      if (busy) this.stats.cpuBackoffRead()
      this.adaptation.observe(read)
      const session = this.sessions.current()
      if (busy && !this.observes(session)) {
        // A session the back-off leaves out costs what the cache mode costs: no template, no
        // history, no learning. Its history goes, so that no transition is learned across the
        // reads it skips, nor anything predicted from what it read before them.
        this.stats.cpuSampledOut()
        this.learner?.forget(session!)
        if (this.rules.length > 0) this.propose('observe', read, read, session, this.rules)
        return
      }
      this.propose('observe', read, read, session)
    } catch (error) {
      this.reportError(error, { phase: 'predict', model: read.model, operation: read.operation })
    }
  }

  /** Called when a read is sent to the database, before its result. Never throws. */
  anticipate(read: StartedRead): void {
    try {
      this.propose('anticipate', read, undefined, this.sessions.current())
    } catch (error) {
      this.reportError(error, { phase: 'predict', model: read.model, operation: read.operation })
    }
  }

  private propose(phase: 'observe' | 'anticipate', read: { model: string; operation: string; args: unknown; result?: unknown }, trigger: CompletedRead | undefined, session: SessionRef | undefined, predictors = this.predictors): void {
    // Learning predicts within sessions only; outside one, only rules can propose anything.
    if (session === undefined && this.options.rules.length === 0) return
    // While the loop is too busy nothing predicted could run: the learner learns (sampled) and predicts nothing.
    const backoff = this.cpu?.busy === true ? this.backoff : undefined
    if (backoff !== undefined && phase === 'anticipate' && this.options.rules.length === 0) return
    const candidates = predict(
      predictors,
      {
        session,
        query: { model: read.model, operation: read.operation, args: (read.args ?? {}) as Record<string, unknown>, result: read.result },
        at: this.options.now(),
        minProbability: this.threshold,
        backoff,
      },
      { minProbability: this.threshold, maxPerTrigger: this.options.maxPerTrigger },
      (error) => this.reportError(error, { phase: 'predict', model: read.model, operation: read.operation }),
      phase,
    )
    for (const candidate of candidates) this.submit(candidate, trigger, session)
  }

  /** The database strained (a failed read): halve the speculative limit. */
  pressure(): void {
    this.adaptation.pressure()
  }

  /** The reads predicted to follow speculative reads `chain`, their probability multiplied by `probability`, the chain's own. */
  private followers(session: SessionRef | undefined, chain: readonly ObservedQuery[], probability: number): Candidate[] {
    const last = chain[chain.length - 1]
    const report = (error: unknown) => this.reportError(error, { phase: 'predict', model: last.model, operation: last.operation })
    const ranking = { minProbability: this.threshold / probability, maxPerTrigger: this.options.maxPerTrigger }
    return predictFollowers(this.predictors, session, chain, this.options.now(), ranking, report).map((c) => ({ ...c, probability: c.probability * probability }))
  }

  /**
   * Chaining: the reads predicted to follow speculative reads `chain` (the last one started, or
   * completed when its result is given), queued in turn. Never throws.
   */
  private follow(session: SessionRef | undefined, chain: readonly ObservedQuery[], probability: number, depth: number): void {
    try {
      for (const candidate of this.followers(session, chain, probability)) this.submit(candidate, undefined, session, chain, depth + 1)
    } catch (error) {
      this.reportError(error, { phase: 'predict', model: chain[chain.length - 1].model, operation: chain[chain.length - 1].operation })
    }
  }

  /**
   * Sends a speculative read; with room left in the chain, predicts its successors when it starts
   * (from its arguments) and when its result arrives (rules see a copy: it is about to be cached).
   */
  private sendChained(query: ObservedQuery, chain: readonly ObservedQuery[], probability: number, depth: number, session: SessionRef | undefined): Promise<unknown> {
    const sent = this.execute(query.model, query.operation, query.args)
    if (depth >= this.chainDepth) return sent
    this.follow(session, [...chain, query], probability, depth)
    return sent.then((result) => {
      const seen = this.options.rules.length > 0 ? cloneResult(result) : result
      this.follow(session, [...chain, { ...query, result: seen }], probability, depth)
      return result
    })
  }

  /**
   * Chained fan-out: the reads predicted to follow each row a fan-out kept (`kept`, each the
   * result of its single-row read, reached through `chainOf(value)`), queued one level deeper:
   * single-row reads of one kind that differ only in the value matched on (the seller of each
   * item) go as one batched read, itself a fan-out. The fan-out's probability is that the next
   * read is one of its rows: unless they are read as a loop (each in turn), what follows one row
   * is that row's share of it, and a batch of such reads is as likely as its reads together.
   * Never throws.
   */
  private followRows(
    session: SessionRef | undefined,
    model: string,
    fanOut: Pick<FanOut, 'operation' | 'argsFor' | 'values' | 'loop'>,
    kept: readonly KeptRow[],
    chainOf: (value: unknown) => readonly ObservedQuery[],
    probability: number,
    depth: number,
  ): void {
    try {
      const loop = fanOut.loop === true
      const share = loop ? 1 : 1 / Math.max(1, fanOut.values.length)
      const followed = kept.slice(0, this.maxFanOut).flatMap(({ value, row }) => {
        // Rules see a copy: the row is cached.
        const chain = [...chainOf(value), { model, operation: fanOut.operation, args: fanOut.argsFor(value), result: this.options.rules.length > 0 ? cloneResult(row) : row }]
        return this.followers(session, chain, probability).map((candidate) => ({ candidate: { ...candidate, probability: candidate.probability * share }, from: chain }))
      })
      const { batches, singles } = batchRowReads(followed, this.maxFanOut, loop)
      for (const batch of batches) if (batch.candidate.probability >= this.threshold) this.submit(batch.candidate, undefined, session, [], depth + 1, batch.fromOf)
      for (const single of singles) if (single.candidate.probability >= this.threshold) this.submit(single.candidate, undefined, session, single.from, depth + 1)
    } catch (error) {
      this.reportError(error, { phase: 'predict', model, operation: fanOut.operation })
    }
  }

  /** Chaining from a candidate found cached (its rows, for a fan-out): its successors are predicted from the cached result. */
  private followCached(session: SessionRef | undefined, candidate: Candidate, chain: readonly ObservedQuery[], chainOf: (value: unknown) => readonly ObservedQuery[], depth: number, canonical: string): void {
    const { model, operation, args } = candidate.query
    const fanOut = candidate.fanOut
    if (fanOut === undefined) {
      const value = this.speculator.cachedValue(model, operation, args, canonical)
      const seen = this.options.rules.length > 0 ? cloneResult(value) : value
      if (value !== undefined) this.follow(session, [...chain, { model, operation, args, result: seen }], candidate.probability, depth)
      return
    }
    const kept = this.speculator.cachedRows(model, fanOut.operation, fanOut.argsFor, fanOut.values)
    if (kept.length > 0) this.followRows(session, model, fanOut, kept, chainOf, candidate.probability, depth)
  }

  /** Queues `candidate`, reached through speculative reads `chain` (for a fan-out's row `value`, through `chainOf(value)`). */
  private submit(candidate: Candidate, trigger: CompletedRead | undefined, session: SessionRef | undefined, chain: readonly ObservedQuery[] = [], depth = 1, chainOf = (_value: unknown) => chain): void {
    // The event loop is the bottleneck: not even the cost of keying and queueing it.
    if (this.scheduler.paused) return this.stats.skip('cpuBusy')
    const { model, operation, args } = candidate.query
    if (this.options.models.get(model)?.prefetch === false) return this.stats.skip('modelOff')
    // Learned and ruled arguments alike: one that came out missing or null would only fail in
    // Prisma's validation, as a failed prefetch. A fan-out's batch is its query, as sent.
    if (whyInvalid(this.schema, model, operation, args) !== undefined) return this.stats.skip('invalid')
    let canonical: string
    try {
      canonical = canonicalArgs(args)
    } catch {
      return this.stats.skip('uncacheable')
    }
    const fanOut = candidate.fanOut
    if (this.options.shadow) {
      if (fanOut === undefined) this.speculator.shadow(model, operation, [args], candidate.strategy)
      else this.speculator.shadow(model, fanOut.operation, fanOut.values.map(fanOut.argsFor), candidate.strategy)
      return
    }
    if (fanOut !== undefined && !this.rowsShared()) {
      // Query hooks beneath this extension may treat a batched findMany apart from the single-row
      // reads it stands for: each of those goes as itself (Prisma batches same-tick findUniques).
      for (const value of fanOut.values) this.submit({ ...candidate, fanOut: undefined, query: { model, operation: fanOut.operation, args: fanOut.argsFor(value) } }, trigger, session, chainOf(value), depth)
      return
    }
    // A read whose result is cached or in flight already would be skipped when it ran: when
    // process memory tells so, it is skipped now, before it takes a place in the queue.
    if (!this.scheduler.closed) {
      const known = fanOut === undefined ? this.speculator.known(model, operation, args, canonical) : this.speculator.knownRows(model, fanOut.operation, fanOut.argsFor, fanOut.values) ? 'cached' : undefined
      if (known !== undefined) {
        // With room left in the chain, what follows a cached result is predicted as if it had been read.
        if (known === 'cached' && depth < this.chainDepth) this.followCached(session, candidate, chain, chainOf, depth, canonical)
        return this.stats.skip(known)
      }
    }
    // Per session: with a scope function, the same query may be a different entry per session.
    const key = `${session?.sessionId ?? ''}\u0000${model}.${operation}${canonical}`
    // The user holds the rows of a fan-out too and may change them: keep a copy taken now.
    const rows = fanOut?.rows === undefined ? undefined : (cloneResult(fanOut.rows) as Record<string, unknown>[])
    const saving = this.latency.expected(model, fanOut?.operation ?? operation)
    // A fan-out's shape: the batch's arguments other than its where (select/include), and the field matched on.
    const shape = fanOut === undefined ? '' : `${model}\u0000${fanOut.field}\u0000${canonicalArgs({ ...(args as Record<string, unknown>), where: null })}`
    this.scheduler.submit({
      key,
      session: session?.sessionId,
      priority: candidate.probability * saving,
      // A job may start later, from whatever finished the one before it (another session's
      // async context): it runs in the session it was predicted for, whose scope keys its result.
      run: () =>
        this.sessions.within(session, () => {
          if (fanOut === undefined) {
            const query = { model, operation, args }
            return this.speculator.warm(model, operation, args, () => this.sendChained(query, chain, candidate.probability, depth, session), candidate.strategy, canonical)
          }
          return this.speculator.warmRows(
            {
              model,
              operation: fanOut.operation,
              argsFor: fanOut.argsFor,
              field: fanOut.field,
              strip: fanOut.strip,
              values: fanOut.values,
              rows,
              source: trigger,
              maxBytes: this.maxFanOutBytes,
              rowBytes: this.fanOutRowBytes.touch(shape),
              sized: (rowBytes) => this.fanOutRowBytes.remember(shape, rowBytes),
              kept: depth < this.chainDepth ? (kept) => this.followRows(session, model, fanOut, kept, chainOf, candidate.probability, depth) : undefined,
            },
            (values) => this.execute(model, 'findMany', { ...args, where: { [fanOut.field]: { in: values } } }),
            candidate.strategy,
          )
        }),
    })
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    return this.scheduler.idle()
  }

  close(): Promise<void> {
    this.cpu?.close()
    return this.scheduler.close()
  }

  /** What was learned, as plain data. */
  describe(limit: number): PrefetchModel {
    const learned = this.learner?.describe(limit) ?? { sessions: 0, users: 0, templates: 0, contexts: 0, transitions: [] }
    return {
      ...learned,
      rules: this.options.rules.map((r) => ({
        from: `${r.from.model}.${r.from.operation}`,
        to: `${r.to.model}.${r.to.operation}`,
        probability: r.probability,
      })),
    }
  }
}
