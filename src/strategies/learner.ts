/**
 * The learned predictor: templates, transitions and argument mappings put together to turn a
 * completed read into candidates with concrete arguments (and fan-outs over a list).
 */

import { BoundedMap } from '../bounded-map.ts'
import { valueText } from '../canonical.ts'
import { isPlainObject } from '../shared.ts'
import type { LearnOptions } from '../types.ts'
import { contextOf, SessionHistories } from './history.ts'
import { describeModel, mergeModel, shareModel, type LearnedModel, type LearnedParts, type SharedModel } from './learned-model.ts'
import { ArgumentMappings, type Derivation } from './mappings.ts'
import { SessionRecall, type Recall } from './recall.ts'
import { summarize, type Step } from './steps.ts'
import { noiseBand, preferSingleReads } from './single-reads.ts'
import { instantiate, sameRowShape, TemplateTable, type Template, type TemplatedQuery } from './template.ts'
import { exactKey } from './followers.ts'
import { RememberedReads } from './remembered.ts'
import { blend, TransitionModel, type NextTemplates } from './transitions.ts'
import type { Candidate, FanOut, ObservedQuery, Predictor, Query, ReadEvent, SessionRef } from './types.ts'

export type { LearnedArgument, LearnedModel, LearnedTransition, SharedModel } from './learned-model.ts'

/** The bounds and thresholds of learning, every one set; see `LearnOptions` in the public types for each. */
export type LearnSettings = Required<LearnOptions>

/** A field of a read's row that a read predicted to follow it takes as an argument (see `dependents`). */
export class RowField {
  constructor(readonly field: string) {}
}

function holdsRowField(value: unknown): boolean {
  return value instanceof RowField || (Array.isArray(value) && value.some(holdsRowField))
}

/** A read predicted to follow a started single-row read, with one argument from that read's row. */
export interface Dependent {
  /** Its arguments, with a `RowField` where the row's value goes. */
  query: Query
  probability: number
  /** The field of the row the argument comes from (the first, for a list of fields). */
  field: string
  /** Every field of the row the argument comes from: one, or the fields whose values (nulls dropped) make a list (`in: [...]`). */
  fields: string[]
  /** The argument path it goes to (`where.authorId`). */
  path: string
}

/**
 * Learns from each session's reads which template follows which (a variable-order model, global
 * and per user, blended) and where each slot of the next read gets its value; predicts the next
 * reads with concrete arguments. Pure and bounded: see `LearnSettings`.
 */
export class LearnedPredictor implements Predictor {
  readonly name = 'transitions'
  private readonly templates: TemplateTable
  private readonly histories: SessionHistories
  private readonly global: TransitionModel
  private readonly users: BoundedMap<string, TransitionModel>
  private readonly mappings: ArgumentMappings
  /** Each session's last read of each template, for values older than its history. */
  private readonly recall: SessionRecall
  /** The whole reads that followed each exact read, and their record against the derived candidates. */
  private readonly remembered: RememberedReads

  constructor(private readonly settings: LearnSettings) {
    this.templates = new TemplateTable(settings.maxTemplates)
    this.histories = new SessionHistories(settings)
    this.global = new TransitionModel({ ...settings })
    this.users = new BoundedMap(settings.maxUsers)
    this.mappings = new ArgumentMappings({ ...settings, maxTemplates: settings.maxTemplates })
    this.recall = new SessionRecall(settings)
    this.remembered = new RememberedReads(settings, this.templates)
  }

  observe(event: ReadEvent): Candidate[] {
    const { session, query, at } = event
    if (session === undefined) return []
    const templated = this.templates.resolve(query)
    if (templated === undefined) return []
    const before = this.histories.before(session, at)
    const backoff = event.backoff
    const user = session.userId === undefined ? undefined : this.userModel(session.userId)
    const recall = this.recall.of(session, at)
    const step = this.stepOf(templated, query.result, at)
    step.key = exactKey(templated.template.id, templated.values)
    if (before.length > 0) {
      const previous = contextOf(before, this.settings.order)
      // Under CPU pressure a settled context is learned from 1 time in `learnEvery`.
      if (backoff !== undefined && this.global.sampledOut(previous, backoff.settledAfter, backoff.learnEvery)) backoff.sampledOut()
      else {
        this.global.record(previous, templated.template.id)
        user?.record(previous, templated.template.id)
        this.mappings.learn(templated, before, recall)
        this.remembered.learn(before[before.length - 1], step, templated, query)
      }
    }
    // Always: the next reads' arguments are predicted from it once the process is calm again.
    this.histories.append(session, step)
    this.recall.remember(session, step)
    // Under CPU pressure nothing predicted could run.
    if (backoff !== undefined) return []
    return this.predictAfter(this.histories.before(session, at), user, query.result, false, event.minProbability, this.recall.of(session, at), step)
  }

  /**
   * `session` made reads this learner was not shown (the CPU back-off left it out): its history
   * and recall go, so that nothing is learned or predicted across the gap; its next read starts afresh.
   */
  forget(session: SessionRef): void {
    this.histories.forget(session.sessionId)
    this.recall.forget(session.sessionId)
  }

  /**
   * The reads that will follow a read that has only started (its result is not known yet):
   * those whose every argument has its best source in the arguments of this read or of earlier
   * ones, so they can run alongside it. Learns nothing.
   */
  anticipate(event: ReadEvent): Candidate[] {
    const { session, query, at } = event
    if (session === undefined || event.backoff !== undefined) return []
    const templated = this.templates.resolve(query)
    if (templated === undefined) return []
    const history = [...this.histories.before(session, at), { template: templated.template, values: templated.values, result: undefined, at }]
    const user = session.userId === undefined ? undefined : this.users.get(session.userId)
    return this.predictAfter(history.slice(-this.settings.maxHistory), user, undefined, true, event.minProbability, this.recall.of(session, at))
  }

  /**
   * For a single-row read that has only started: the reads likely to follow it whose one unknown
   * argument is a field of its row (every other argument at hand), each with that argument as a
   * `RowField` to be filled in from the row. Learns nothing.
   */
  dependents(event: ReadEvent): Dependent[] {
    const { session, query, at } = event
    if (session === undefined) return []
    const templated = this.templates.find(query)
    if (templated === undefined) return []
    const before = this.histories.before(session, at)
    const user = session.userId === undefined ? undefined : this.users.get(session.userId)
    const started: Step = { template: templated.template, values: templated.values, result: undefined, at }
    const context = contextOf([...before, started], this.settings.order)
    const { minSupport, userPriorWeight, maxBranches } = this.settings
    const next = blend(this.global.predict(context, minSupport), user?.predict(context, minSupport), userPriorWeight)
    if (next === undefined) return []
    const out: Dependent[] = []
    for (const [id, probability] of [...next.probabilities].sort((a, b) => b[1] - a[1]).slice(0, maxBranches)) {
      const template = this.templates.get(id)
      if (template === undefined) continue
      const fields = this.mappings.firstRowFields(template, templated.template.id)
      if (fields.length === 0) continue
      // The started read's row, each field it may give standing as a placeholder.
      const row = fields.map((field) => new RowField(field))
      const step: Step = { ...started, result: { single: true, fields, rows: [row], last: undefined, length: 1 } }
      const history = [...before, step].slice(-this.settings.maxHistory)
      for (const derived of this.mappings.derive(template, history, true, 0, this.recall.of(session, at))) {
        if (derived.fanOut !== undefined) continue
        // One slot from the row: a field of it, or a list of its fields.
        const fromRow = (value: unknown) => value instanceof RowField || (Array.isArray(value) && value.length > 0 && value.every((item) => item instanceof RowField))
        const placed = derived.values.filter(fromRow)
        if (placed.length !== 1 || derived.values.some((value) => value !== placed[0] && holdsRowField(value))) continue
        const slot = derived.values.indexOf(placed[0])
        const fields = (Array.isArray(placed[0]) ? placed[0] : [placed[0]]).map((item: RowField) => item.field)
        out.push({
          query: { model: template.model, operation: template.operation, args: instantiate(template, derived.values) },
          probability: probability * derived.confidence,
          field: fields[0],
          fields,
          path: template.paths[slot],
        })
      }
    }
    return out.sort((a, b) => b.probability - a.probability)
  }

  follow(session: SessionRef | undefined, chain: readonly ObservedQuery[], at: number, minProbability = 0): Candidate[] {
    if (session === undefined || chain.length === 0) return []
    const steps: Step[] = []
    for (const query of chain) {
      // A chain only ever holds reads predicted from templates already known.
      const templated = this.templates.find(query)
      if (templated === undefined) return []
      steps.push(this.stepOf(templated, query.result, at))
    }
    // The chain's reads go into the history as the session's own would: a lookup of a list's
    // row is a loop's next iteration, and the one of its last row ends the loop.
    const history = this.histories.extended(session, at, steps)
    const last = chain[chain.length - 1]
    const user = session.userId === undefined ? undefined : this.users.get(session.userId)
    return this.predictAfter(history, user, last.result, last.result === undefined, minProbability, this.recall.of(session, at))
  }

  /** The step of a read of `templated` that returned `result`. */
  private stepOf(templated: TemplatedQuery, result: unknown, at: number): Step {
    const step: Step = { template: templated.template, values: templated.values, result: summarize(result, this.settings.maxRows), at }
    // An empty list of a kind looped over before: no loop follows it this time.
    if (Array.isArray(result) && result.length === 0 && this.histories.loopedOver(templated.template.id)) step.lastRow = true
    return step
  }

  /**
   * Candidates for the read after `history`; `strict`: only where each slot's best source is at
   * hand; `observed`: the read just observed, whose remembered followers join them. Those less probable than `minProbability` are left out (ranking would drop them).
   */
  private predictAfter(history: readonly Step[], user: TransitionModel | undefined, result: unknown, strict: boolean, minProbability = 0, recall?: Recall, observed?: Step): Candidate[] {
    const context = contextOf(history, this.settings.order)
    const { minSupport, userPriorWeight } = this.settings
    const next = blend(this.global.predict(context, minSupport), user?.predict(context, minSupport), userPriorWeight)
    // The exact key of each single read proposed, to merge the memory's into (see `remembered`).
    const keys: (string | undefined)[] | undefined = observed?.key === undefined ? undefined : []
    const candidates = next === undefined ? [] : this.candidates(next, history, result, strict, minProbability, recall, keys)
    // And the whole reads that followed this one before.
    if (keys !== undefined) this.remembered.propose(observed!, next, candidates, keys, minProbability)
    return candidates
  }

  private candidates(next: NextTemplates, history: readonly Step[], result: unknown, strict: boolean, minProbability: number, recall: Recall | undefined, keys?: (string | undefined)[]): Candidate[] {
    const ranked = [...next.probabilities].sort((a, b) => b[1] - a[1]).slice(0, this.settings.maxBranches)
    // The `maxAlternatives` most probable derivations over every next template; only those become
    // queries. A template less likely than the last of them cannot place one (no derivation is
    // more probable than its template), nor can any after it.
    const limit = this.settings.maxAlternatives
    const best: { template: Template; derived: Derivation; probability: number }[] = []
    // Below `minProbability` nothing is kept: those would only be built to be dropped (so are
    // the arguments of every template less likely, and derivations that make a kept one so).
    // The same best come out as without it, less those ranking drops. Kept down to the noise band
    // of preferSingleReads under it (its widest, at a share of one half): a single read that
    // lowers a fan-out to its own probability must be there to do so.
    const keep = minProbability > 0 ? Math.max(0, minProbability - noiseBand(Math.max(1, next.support))) : 0
    for (const [id, probability] of ranked) {
      if (best.length >= limit && probability <= best[best.length - 1].probability) break
      if (!(probability >= keep)) break
      const template = this.templates.get(id)
      if (template === undefined) continue
      // A margin for rounding: the floor leaves out only what is surely under `keep`.
      const floor = Math.max(best.length >= limit ? best[best.length - 1].probability / probability : 0, (keep / probability) * (1 - 1e-9))
      for (const derived of this.mappings.derive(template, history, strict, floor, recall)) {
        const p = probability * derived.confidence
        if (!(p >= keep)) continue
        if (best.length >= limit && p <= best[best.length - 1].probability) continue
        let at = best.length
        while (at > 0 && best[at - 1].probability < p) at--
        best.splice(at, 0, { template, derived, probability: p })
        if (best.length > limit) best.pop()
      }
    }
    preferSingleReads(best, next.support)
    return best.map(({ template, derived, probability }) => {
      keys?.push(derived.fanOut === undefined ? exactKey(template.id, derived.values) : undefined)
      if (derived.fanOut === undefined) {
        return { query: { model: template.model, operation: template.operation, args: instantiate(template, derived.values) }, probability, strategy: 'transitions' }
      }
      const fanOut = this.fanOut(template, derived.values, derived.fanOut, history, result)
      return { query: fanOut.query, probability, strategy: 'fanOut', fanOut: fanOut.fanOut }
    })
  }

  /** One batched findMany for the leading rows of a list, each row kept as its own findUnique. */
  private fanOut(template: Template, values: unknown[], spec: { slot: number; lag: number; values: unknown[] }, history: readonly Step[], result: unknown) {
    const field = template.fanOutField!
    const argsFor = (value: unknown) => {
      const filled = [...values]
      filled[spec.slot] = value
      return instantiate(template, filled)
    }
    const args = argsFor(undefined)
    args.where = { [field]: { in: spec.values } }
    const select = args.select
    const strip = isPlainObject(select) && select[field] !== true
    if (strip) args.select = { ...select, [field]: true }
    const source = history[history.length - spec.lag]
    // Lookups of this template went over lists of this kind row by row, or this one's rows already.
    const loop = this.histories.loopedBy(source.template.id, template.id) || source.cursorBy === template.id
    const fanOut: FanOut = { operation: template.operation, field, argsFor, strip, values: spec.values, loop }
    // The list just read may already hold the rows in the shape the single-row read asks for.
    if (spec.lag === 1 && Array.isArray(result) && source.template.model === template.model && sameRowShape(source.template, template)) {
      const wanted = new Set(spec.values.map((value) => valueText(value)))
      fanOut.rows = result.filter((row) => isPlainObject(row) && wanted.has(valueText(row[field])))
    }
    return { query: { model: template.model, operation: 'findMany', args }, fanOut }
  }

  private userModel(userId: string): TransitionModel {
    const model = this.users.get(userId) ?? new TransitionModel({ ...this.settings, maxContexts: this.settings.maxUserContexts })
    this.users.remember(userId, model)
    return model
  }

  /** The parts the learned model is read from and merged into. */
  private parts(): LearnedParts {
    return { templates: this.templates, global: this.global, mappings: this.mappings, sessions: this.histories.size, users: this.users.size }
  }

  /** What was learned, as plain data: the `limit` best supported transitions of the global model. */
  describe(limit: number): LearnedModel {
    return describeModel(this.parts(), limit)
  }

  /** What to share with other processes: at most `maxContexts` contexts, the best supported first. */
  share(maxContexts: number): SharedModel {
    return shareModel(this.parts(), maxContexts)
  }

  /** Adds what another process learned to this one's model (its counts as if observed here). */
  merge(shared: SharedModel): void {
    mergeModel(this.parts(), shared)
  }

  /** Sizes of every bounded structure, for tests of the bounds. */
  sizes() {
    return {
      sessions: this.histories.size,
      longestHistory: this.histories.longest(),
      templates: this.templates.size,
      contexts: this.global.size,
      users: this.users.size,
      mappedTemplates: this.mappings.size,
      ...this.remembered.sizes(),
      argumentContexts: this.mappings.contextCount,
      loopedLists: this.histories.loopedLists,
      recallSessions: this.recall.size,
      longestRecall: this.recall.longest(),
    }
  }
}
