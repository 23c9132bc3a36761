/**
 * Argument mappings: where each slot of a next read gets its value (a constant, an argument or a
 * result field of a recent read), learned with the evidence for each source.
 */

import { BoundedMap } from '../bounded-map.ts'
import type { Step } from './steps.ts'
import { better, confidenceOf, countValue, isUsable, MIN_VALUE_COUNT, offer, usual, weakest, type Alternative, type Evidence, type SlotModel } from './evidence.ts'
import { discoverRecalled, type Recall } from './recall.ts'
import { AnyOf, discover, evaluate, holds, keyOf, MISSING, RANK, type Source } from './sources.ts'
import type { Template, TemplatedQuery } from './template.ts'
import { matchKey, sameValue } from './values.ts'

export type { Evidence, SlotModel, ValueCounts } from './evidence.ts'

export interface MappingBounds {
  /** How many reads back a value is looked for. */
  lookback: number
  /** Sources tracked per slot. */
  maxSources: number
  /** Templates whose mappings are kept. */
  maxTemplates: number
  /** Observations a source needs before it is used. */
  minSupport: number
  /** The share of observations a source must have held to be used. */
  minConfidence: number
  /** Halve a source's counts when it has been seen this often. */
  agingLimit: number
  /** Rows fetched at most by one fan-out. */
  maxFanOut: number
  /** Transitions (previous template, next template) whose sources and values are learned apart. */
  maxArgumentContexts: number
  /** Concrete values remembered per slot. */
  maxValues: number
  /** Argument combinations proposed per next template. */
  maxAlternatives: number
}

/** What is learned of the arguments of a template, overall or after one previous template. */
interface ArgumentModel {
  /** Reads learned from (halved with aging, as the counts are). */
  observations: number
  slots: SlotModel[]
}

/** How the slot values of a next read are derived from a history. */
export interface Derivation {
  values: unknown[]
  /** The probability of these values for the template: the product of each slot's. */
  confidence: number
  /** Set when one slot is "any row" of a list and the template can be fetched as a batch. */
  fanOut?: { slot: number; lag: number; values: unknown[] }
}

const CONTEXT_SEP = '>'
/**
 * Whether a loop of lookups of `template` over the rows of `list` has just taken its last row:
 * nothing is left to fan out. (A loop of other lookups leaves every row to this one.)
 */
function exhausted(list: Step, template: Template): boolean {
  return list.cursor !== undefined && list.cursorBy === template.id && list.result !== undefined && list.cursor + 1 >= list.result.length
}

/**
 * For every slot of every template, the sources its value came from and how often each held, and
 * the values it had: overall, and apart for each transition that led to the template (the
 * previous read's template), since one template reached from two pages may take its argument
 * from a different place after each. A transition seen fewer than `minSupport` times backs off to
 * the template's overall model.
 *
 * Sources are a mixture: each that held at least `minConfidence` of at least `minSupport`
 * observations proposes its value with that share as its probability, as does each remembered
 * value with its share of the observations; the same value proposed twice keeps the larger.
 * Bounded by `maxTemplates` templates and `maxArgumentContexts` transitions (least recently
 * learned forgotten first), `maxSources` sources and `maxValues` values per slot.
 */
export class ArgumentMappings {
  private readonly templates: BoundedMap<string, ArgumentModel>
  private readonly contexts: BoundedMap<string, ArgumentModel>

  constructor(private readonly bounds: MappingBounds) {
    this.templates = new BoundedMap(bounds.maxTemplates)
    this.contexts = new BoundedMap(bounds.maxArgumentContexts)
  }

  get size(): number {
    return this.templates.size
  }

  /** Transitions whose arguments are learned apart. */
  get contextCount(): number {
    return this.contexts.size
  }

  /**
   * Learns where each slot value of `next` came from, given the history before it and what the
   * session recalls: a value no read of the history explains is looked for in `recall`.
   */
  learn(next: TemplatedQuery, history: readonly Step[], recall?: Recall): void {
    const id = next.template.id
    const slots = next.values.length
    const overall = this.touch(this.templates, id, slots)
    const previous = history[history.length - 1]
    const context = previous === undefined ? undefined : this.touch(this.contexts, previous.template.id + CONTEXT_SEP + id, slots)
    const discovered: (Source[] | undefined)[] = []
    const found = (slot: number) => (discovered[slot] ??= discoverAll(next, slot, history, this.bounds.lookback, recall))
    this.learnInto(overall, next, history, found, recall)
    if (context !== undefined) this.learnInto(context, next, history, found, recall)
  }

  /** The model under `key`, made the most recently used (a new one if none or of another arity). */
  private touch(map: BoundedMap<string, ArgumentModel>, key: string, slots: number): ArgumentModel {
    let model = map.get(key)
    if (model === undefined || model.slots.length !== slots) model = emptyModel(slots)
    map.remember(key, model)
    return model
  }

  private learnInto(model: ArgumentModel, next: TemplatedQuery, history: readonly Step[], found: (slot: number) => Source[], recall: Recall | undefined): void {
    model.observations++
    if (model.observations > this.bounds.agingLimit) model.observations /= 2
    next.values.forEach((actual, slot) => {
      const { sources: evidence, values } = model.slots[slot]
      // The slot's usual value before this observation, which a source may merely agree with.
      const common = usual(values)
      countValue(values, actual, this.bounds)
      let anyHeld = false
      for (const item of evidence) {
        const value = evaluate(item.source, history, recall)
        if (value === MISSING) continue
        item.seen++
        const held = holds(value, actual)
        if (held) {
          item.held++
          anyHeld = true
        }
        if (item.apart !== undefined && common !== undefined && !holds(value, common.value)) {
          item.apart++
          if (held) item.lone!++
        }
        if (item.seen > this.bounds.agingLimit) {
          item.seen /= 2
          item.held /= 2
          if (item.apart !== undefined) {
            item.apart /= 2
            item.lone! /= 2
          }
        }
      }
      // Look for new sources only when none of the known ones explained the value.
      if (anyHeld) return
      // A source found now gave the value: it held apart from the usual value if that is not it.
      const apart = common !== undefined && !holds(actual, common.value) ? 1 : 0
      for (const source of found(slot)) {
        const added = this.addSource(evidence, source, 1, 1)
        if (added === undefined) {
          const item = evidence[evidence.length - 1]
          item.apart = apart
          item.lone = apart
        }
      }
    })
  }

  private addSource(evidence: Evidence[], source: Source, held: number, seen: number): Evidence | undefined {
    const key = keyOf(source)
    const known = evidence.find((item) => item.key === key)
    if (known !== undefined) return known
    if (evidence.length >= this.bounds.maxSources) evidence.splice(weakest(evidence), 1)
    const item = { source, key, held, seen }
    evidence.push(item)
    return undefined
  }

  /** The model to derive from after a read of `previous`: its transition's once mature, else the template's. */
  private modelFor(template: Template, previous: string | undefined): ArgumentModel | undefined {
    const context = previous === undefined ? undefined : this.contexts.get(previous + CONTEXT_SEP + template.id)
    if (context !== undefined && context.observations >= this.bounds.minSupport) return context
    return this.templates.get(template.id)
  }

  /**
   * The likeliest ways the slot values of `template` can be derived after `history` (at most
   * `maxAlternatives`, most probable first), and, for a single-row read by a unique field whose
   * value came from "any row" of a list, a fan-out over that list's leading rows. `strict` (the
   * read before has no result yet): only sources, and only where each slot's best is at hand.
   * Derivations no more probable than `floor` may be left out. `recall`: what the session recalls.
   */
  derive(template: Template, history: readonly Step[], strict = false, floor = 0, recall?: Recall): Derivation[] {
    const model = this.modelFor(template, history[history.length - 1]?.template.id)
    if (model === undefined || model.slots.length !== template.paths.length) return template.paths.length === 0 ? [{ values: [], confidence: 1 }] : []
    const fanOutPath = template.fanOutField === undefined ? undefined : `where.${template.fanOutField}`
    const { minSupport, maxAlternatives } = this.bounds
    const perSlot: Alternative[][] = []
    let fanOut: { slot: number; evidence: Evidence; values: unknown[] } | undefined
    // A unique read refuses a null or missing key: no such value is proposed for its where.
    const unique = template.operation === 'findUnique' || template.operation === 'findUniqueOrThrow'
    for (let slot = 0; slot < model.slots.length; slot++) {
      const { sources, values } = model.slots[slot]
      const alternatives: Alternative[] = []
      const keyed = unique && template.paths[slot].startsWith('where.')
      let bestUsable: Evidence | undefined
      let bestAtHand = false
      // The most confident source at hand and what it gives: a value it does not give is right
      // only when it fails, at most 1 - its confidence of the time.
      let surest = 0
      let surestValue: unknown
      // Recalled values, ranked after the sources of the history (see below).
      const recalled: { value: unknown; confidence: number; rank: number }[] = []
      for (const item of sources) {
        if (!isUsable(item, this.bounds)) continue
        if (item.source.kind === 'anyRow') {
          if (template.paths[slot] !== fanOutPath || (fanOut !== undefined && !better(item, fanOut.evidence))) continue
          const value = evaluate(item.source, history)
          if (value instanceof AnyOf && !exhausted(history[history.length - item.source.lag], template)) {
            fanOut = { slot, evidence: item, values: value.values }
            if (item.held / item.seen > surest) [surest, surestValue] = [item.held / item.seen, value]
          }
          continue
        }
        const value = evaluate(item.source, history, recall)
        if (bestUsable === undefined || better(item, bestUsable)) {
          bestUsable = item
          bestAtHand = value !== MISSING
        }
        if (value === MISSING) continue
        const confidence = confidenceOf(item, value, values, minSupport, holds)
        if (item.source.kind === 'recall' || item.source.kind === 'recallRow') {
          recalled.push({ value, confidence, rank: RANK[item.source.kind] })
          continue
        }
        if (confidence > surest) [surest, surestValue] = [confidence, value]
        if (!(keyed && (value === null || value === undefined))) offer(alternatives, value, confidence, RANK[item.source.kind])
      }
      // A recalled value the surest source of the history does not give is right only when that fails.
      for (const { value, confidence, rank } of recalled) {
        const probability = surest > 0 && !holds(surestValue, value) ? Math.min(confidence, 1 - surest) : confidence
        if (!(keyed && (value === null || value === undefined))) offer(alternatives, value, probability, rank)
      }
      // Strict: a weaker source standing in for a better one not at hand yet would guess wrong.
      // Remembered values need nothing at hand: they stand when no source is better.
      if (strict && bestUsable !== undefined && !bestAtHand) {
        alternatives.length = 0
      } else if (values.total >= minSupport) {
        // No share is asked of a value: one of twenty, seen twice, still ranks among the likeliest.
        for (const { value, count } of values.counts.values()) {
          if (count < MIN_VALUE_COUNT || (keyed && (value === null || value === undefined))) continue
          const share = count / values.total
          offer(alternatives, value, surest > 0 && !holds(surestValue, value) ? Math.min(share, 1 - surest) : share, RANK.constant)
        }
      }
      alternatives.sort((a, b) => b.probability - a.probability || a.rank - b.rank)
      if (alternatives.length > maxAlternatives) alternatives.length = maxAlternatives
      // A value less likely than `floor` makes every combination with it less likely still.
      while (alternatives.length > 0 && alternatives[alternatives.length - 1].probability <= floor) alternatives.pop()
      // A slot without a value leaves only the fan-out, and only if it is that slot.
      if (alternatives.length === 0 && fanOut?.slot !== slot) return []
      perSlot.push(alternatives)
    }
    const derivations: Derivation[] = []
    if (perSlot.every((alternatives) => alternatives.length > 0)) {
      // The most probable combinations, slot by slot (slots taken as independent).
      let combinations: Derivation[] = [{ values: [], confidence: 1 }]
      for (const alternatives of perSlot) {
        const grown: Derivation[] = []
        for (const combination of combinations) {
          for (const { value, probability } of alternatives) grown.push({ values: [...combination.values, value], confidence: combination.confidence * probability })
        }
        combinations = grown.length <= maxAlternatives ? grown : grown.sort((a, b) => b.confidence - a.confidence).slice(0, maxAlternatives)
      }
      derivations.push(...combinations)
    }
    if (fanOut !== undefined) {
      // The distinct values by their match key (the same values `sameValue` tells apart), in order.
      const distinct: unknown[] = []
      const keys = new Set<string>()
      for (const value of fanOut.values) {
        const key = matchKey(value)
        if (key === undefined || keys.has(key)) continue
        keys.add(key)
        if (distinct.length < this.bounds.maxFanOut) distinct.push(value)
      }
      if (distinct.length > 0) {
        const kept = distinct
        const { slot, evidence } = fanOut
        let others = 1
        const values = perSlot.map((alternatives, i) => {
          if (i === slot) return undefined
          others *= alternatives[0].probability
          return alternatives[0].value
        })
        const confidence = others * (evidence.held / evidence.seen) * (kept.length / keys.size)
        // A single read the batch holds, and less likely than it, adds nothing beside it: the top
        // k goes to distinct reads. (One as likely stays: a row sure to come is read on its own.)
        const covered = (d: Derivation) =>
          d.confidence < confidence && d.values.every((value, i) => (i === slot ? keys.has(matchKey(value)!) && kept.some((row) => sameValue(row, value)) : sameValue(value, values[i])))
        const distinctReads = derivations.filter((d) => !covered(d))
        distinctReads.push({ values, confidence, fanOut: { slot, lag: (evidence.source as { lag: number }).lag, values: kept } })
        return distinctReads
      }
    }
    return derivations
  }

  /**
   * The fields of the first row of the read just before (of template `previous`) that are the best
   * usable source of a slot of `template`.
   */
  firstRowFields(template: Template, previous: string): string[] {
    const model = this.modelFor(template, previous)
    if (model === undefined) return []
    const fields: string[] = []
    for (const { sources } of model.slots) {
      let best: Evidence | undefined
      for (const item of sources) if (isUsable(item, this.bounds) && item.source.kind !== 'anyRow' && (best === undefined || better(item, best))) best = item
      const source = best?.source
      if (source?.kind === 'row' && source.lag === 1 && source.row === 0 && source.template === previous && !fields.includes(source.field)) fields.push(source.field)
      // A list of several of the row's fields (`id: { in: [row.aId, row.bId] }`).
      if (source?.kind === 'fields' && source.lag === 1 && source.template === previous) for (const field of source.fields) if (!fields.includes(field)) fields.push(field)
    }
    return fields
  }

  /**
   * Adds evidence learned elsewhere for slot `slot` of a template with `slots` slots: counts of
   * a source already known here are added, a new source is kept if there is room. A constant
   * counts in the slot's value memory.
   */
  merge(templateId: string, slots: number, slot: number, source: Source, held: number, seen: number): void {
    if (!(seen > 0) || !(held >= 0) || held > seen || slot < 0 || slot >= slots) return
    let model = this.templates.get(templateId)
    if (model === undefined) {
      model = emptyModel(slots)
      this.templates.set(templateId, model)
    }
    if (model.slots.length !== slots) return
    const target = model.slots[slot]
    if (source.kind === 'constant') {
      // Each value of a slot comes with the slot's observations as `seen`: counted once, not per value.
      if (held > 0) countValue(target.values, source.value, this.bounds, held)
      target.values.total = Math.max(target.values.total - held, seen)
      return
    }
    const known = this.addSource(target.sources, source, held, seen)
    if (known !== undefined) {
      known.held += held
      known.seen += seen
    }
  }

  /** The sources learned for each slot of a template, best first (for reports). */
  evidence(templateId: string): readonly (readonly Evidence[])[] | undefined {
    return this.templates.get(templateId)?.slots.map((slot) => slot.sources)
  }

  /** What is learned of each slot of a template overall (for reports and sharing). */
  slots(templateId: string): readonly SlotModel[] | undefined {
    return this.templates.get(templateId)?.slots
  }

  /** Every model, overall and per transition (for tests of the bounds). */
  *models(): IterableIterator<readonly SlotModel[]> {
    for (const model of this.templates.values()) yield model.slots
    for (const model of this.contexts.values()) yield model.slots
  }
}

/** The sources of slot `slot` of `next` in `history`, or, when none there, in `recall`. */
function discoverAll(next: TemplatedQuery, slot: number, history: readonly Step[], lookback: number, recall: Recall | undefined): Source[] {
  const found = discover(next, slot, next.values[slot], history, lookback)
  return found.length > 0 ? found : discoverRecalled(next.values[slot], recall)
}

/** What is learned of a template with `slots` slots before any observation. */
function emptyModel(slots: number): ArgumentModel {
  return { observations: 0, slots: Array.from({ length: slots }, () => ({ sources: [], values: { total: 0, counts: new Map() } })) }
}
