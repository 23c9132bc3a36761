import { cloneResult } from '../cache/clone.ts'
import type { ResolvedOptions } from '../options.ts'
import type { Stats } from '../stats.ts'
import { predict } from '../strategies/combine.ts'
import { LearnedPredictor, type LearnedModel } from '../strategies/learner.ts'
import { RulePredictor } from '../strategies/rules.ts'
import type { Candidate, Predictor } from '../strategies/types.ts'
import type { ErrorContext } from '../types.ts'
import type { CompletedRead, QueryCache } from './query-cache.ts'
import type { Sessions } from './session.ts'

/** Sends a read on the client beneath the extension (so it does not come back through it). */
export type Execute = (model: string, operation: string, args: unknown) => Promise<unknown>

/** `$prefetch.model()`: what was learned, and the rules given. */
export interface PrefetchModel extends LearnedModel {
  rules: { from: string; to: string; probability: number }[]
}

/**
 * Turns completed reads into speculative ones: shows each read to the predictors (learned
 * transitions and the application's rules), ranks their candidates, and runs the best of them,
 * at most `concurrency` at once. A predictor failure is reported and never reaches the query.
 */
export class Prefetcher {
  private readonly learner: LearnedPredictor | undefined
  private readonly predictors: Predictor[] = []
  private inFlight = 0

  constructor(
    private readonly options: ResolvedOptions,
    private readonly cache: QueryCache,
    private readonly sessions: Sessions,
    private readonly stats: Stats,
    private readonly execute: Execute,
    private readonly reportError: (error: unknown, context: ErrorContext) => void,
  ) {
    if (options.learn !== undefined) this.predictors.push((this.learner = new LearnedPredictor(options.learn)))
    if (options.rules.length > 0) {
      this.predictors.push(
        new RulePredictor(options.rules, (error, r) => reportError(error, { phase: 'predict', model: r.to.model, operation: r.to.operation })),
      )
    }
  }

  /** Whether there is anything to predict with at all. */
  get active(): boolean {
    return this.predictors.length > 0
  }

  /** Called after every read outside transactions. Never throws. */
  observe(read: CompletedRead): void {
    try {
      const candidates = predict(
        this.predictors,
        {
          session: this.sessions.current(),
          query: { model: read.model, operation: read.operation, args: (read.args ?? {}) as Record<string, unknown>, result: read.result },
          at: this.options.now(),
        },
        this.options,
        (error) => this.reportError(error, { phase: 'predict', model: read.model, operation: read.operation }),
      )
      for (const candidate of candidates) this.start(candidate, read)
    } catch (error) {
      this.reportError(error, { phase: 'predict', model: read.model, operation: read.operation })
    }
  }

  private start(candidate: Candidate, trigger: CompletedRead): void {
    const { model, operation, args } = candidate.query
    if (this.options.models.get(model)?.prefetch === false) return this.stats.skip('modelOff')
    if (this.inFlight >= this.options.concurrency) return this.stats.skip('busy')
    const fanOut = candidate.fanOut
    let running: Promise<void>
    if (fanOut === undefined) {
      running = this.cache.warm(model, operation, args, () => this.execute(model, operation, args), candidate.strategy)
    } else {
      const where = (value: unknown[]) => ({ ...args, where: { [fanOut.field]: { in: value } } })
      running = this.cache.warmRows(
        {
          model,
          operation: fanOut.operation,
          argsFor: fanOut.argsFor,
          field: fanOut.field,
          strip: fanOut.strip,
          values: fanOut.values,
          // The user holds the rows too and may change them: keep a copy taken now.
          rows: fanOut.rows === undefined ? undefined : (cloneResult(fanOut.rows) as Record<string, unknown>[]),
          source: trigger,
        },
        (values) => this.execute(model, 'findMany', where(values)),
        candidate.strategy,
      )
    }
    this.inFlight++
    void running.finally(() => this.inFlight--)
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
