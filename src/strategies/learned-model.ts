/**
 * What the learner knows, as plain data: the report `$prefetch.model()` shows (the best supported
 * transitions and where each argument comes from), and the bounded snapshot one process shares
 * with others, with the merge that adds another's to its own.
 */

import { valueText } from '../canonical.ts'
import { isReadOperation } from '../shared.ts'
import { LOOP_DONE } from './history.ts'
import type { ArgumentMappings } from './mappings.ts'
import type { Source } from './sources.ts'
import { encodeSkeleton, type Template, type TemplateTable } from './template.ts'
import type { TransitionModel } from './transitions.ts'

/** The parts of a learner its model is read from and merged into. */
export interface LearnedParts {
  templates: TemplateTable
  global: TransitionModel
  mappings: ArgumentMappings
  /** Sessions and users tracked (for the report). */
  sessions: number
  users: number
}

/** Plain data on what was learned, for `$prefetch.model()`. */
export interface LearnedModel {
  sessions: number
  users: number
  templates: number
  contexts: number
  transitions: LearnedTransition[]
}

export interface LearnedTransition {
  /** The shapes of the reads that came before (oldest first). */
  after: string[]
  /** The shape of the read that followed. */
  next: string
  probability: number
  /** How often this transition was observed (after aging). */
  support: number
  /** Where each slot of `next` gets its value, best source first. */
  arguments: LearnedArgument[]
}

export interface LearnedArgument {
  slot: string
  from: string
  confidence: number
  support: number
}

/**
 * What one process shares of what it learned (plain data; the middleware encodes it): the best
 * supported contexts of the global transition model, the argument sources of the templates they
 * lead to, and those templates. Template ids are hashes of shapes, the same in every process.
 */
export interface SharedModel {
  version: 1
  templates: { model: string; operation: string; shape: string; paths: string[]; skeleton: unknown }[]
  transitions: { after: string[]; next: string; count: number }[]
  mappings: { template: string; slots: number; slot: number; source: Source; held: number; seen: number }[]
}

/** What was learned, as plain data: the `limit` best supported transitions of the global model. */
export function describeModel(parts: LearnedParts, limit: number): LearnedModel {
  const transitions: LearnedTransition[] = []
  for (const { context, total, next } of parts.global.entries()) {
    // A context marked as after a loop's last row (or an empty list) is shown as such.
    const after = context.map((id) => {
      if (!id.endsWith(LOOP_DONE)) return parts.templates.get(id)?.shape
      const shape = parts.templates.get(id.slice(0, -LOOP_DONE.length))?.shape
      return shape === undefined ? undefined : `${shape} (loop done)`
    })
    if (after.some((shape) => shape === undefined)) continue
    for (const [id, count] of next) {
      const template = parts.templates.get(id)
      if (template === undefined) continue
      transitions.push({
        after: after as string[],
        next: template.shape,
        probability: count / total,
        support: count,
        arguments: describeArguments(parts, template),
      })
    }
  }
  transitions.sort((a, b) => b.support - a.support || b.probability - a.probability || (a.after.join() < b.after.join() ? -1 : 1))
  return {
    sessions: parts.sessions,
    users: parts.users,
    templates: parts.templates.size,
    contexts: parts.global.size,
    transitions: transitions.slice(0, limit),
  }
}

function describeArguments(parts: LearnedParts, template: Template): LearnedArgument[] {
  const slots = parts.mappings.slots(template.id) ?? []
  const out: LearnedArgument[] = []
  slots.forEach(({ sources, values }, slot) => {
    // The source that explained the slot most often; a handful of lucky matches rank below it.
    const best = [...sources].sort((a, b) => b.held - a.held || b.held / b.seen - a.held / a.seen)[0]
    // Or the value it had most often, if that explains more.
    let often: { value: unknown; count: number } | undefined
    for (const entry of values.counts.values()) if (often === undefined || entry.count > often.count) often = entry
    if (often !== undefined && (best === undefined || often.count > best.held)) {
      out.push({ slot: template.paths[slot], from: describeSource(parts, { kind: 'constant', value: often.value }), confidence: often.count / values.total, support: values.total })
    } else if (best !== undefined) {
      out.push({ slot: template.paths[slot], from: describeSource(parts, best.source), confidence: best.held / best.seen, support: best.seen })
    }
  })
  return out
}

function describeSource(parts: LearnedParts, source: Source): string {
  if (source.kind === 'constant') return `the constant ${showConstant(source.value)}`
  const shape = parts.templates.get(source.template)?.shape ?? source.template
  if (source.kind === 'recall') return `${parts.templates.get(source.template)?.paths[source.slot] ?? `slot ${source.slot}`} of the session's last read of its kind (${shape})`
  if (source.kind === 'recallRow') return `field ${source.field} of the session's last read of its kind (${shape})`
  const read = `${source.lag === 1 ? 'the read before' : `the read ${source.lag} back`} (${shape})`
  switch (source.kind) {
    case 'argument':
      return `${parts.templates.get(source.template)?.paths[source.slot] ?? `slot ${source.slot}`} of ${read}`
    case 'step':
      return `${parts.templates.get(source.template)?.paths[source.slot] ?? `slot ${source.slot}`} ${source.delta < 0 ? '-' : '+'} ${Math.abs(source.delta)} of ${read}`
    case 'row':
      return `field ${source.field} of ${source.row === 'last' ? 'the last row' : `row ${source.row}`} of ${read}`
    case 'anyRow':
      return `field ${source.field} of any row of ${read}`
    case 'nextRow':
      return `field ${source.field} of the row after the one last looked up, of ${read}`
    case 'fields':
      return `fields ${source.fields.join(', ')} of ${read}`
    case 'column':
      return `field ${source.field} of every row of ${read}`
  }
}

/** What to share with other processes: at most `maxContexts` contexts, the best supported first. */
export function shareModel(parts: LearnedParts, maxContexts: number): SharedModel {
  const contexts = [...parts.global.entries()].sort((a, b) => b.total - a.total).slice(0, maxContexts)
  const used = new Set<string>()
  const transitions: SharedModel['transitions'] = []
  for (const { context, next } of contexts) {
    for (const [id, count] of next) {
      // A copy per transition: the codec refuses shared references (a forged entry could make
      // a graph of them), so one array under several transitions made the whole model unreadable.
      transitions.push({ after: [...context], next: id, count })
      used.add(id)
    }
    for (const id of context) used.add(id)
  }
  const mappings: SharedModel['mappings'] = []
  for (const id of [...used]) {
    const slots = parts.mappings.slots(id)
    slots?.forEach(({ sources, values }, slot) => {
      for (const { source, held, seen } of sources) {
        mappings.push({ template: id, slots: slots.length, slot, source, held, seen })
        if ('template' in source) used.add(source.template)
      }
      // Remembered values travel as constant sources, each with the slot's observations.
      for (const { value, count } of values.counts.values()) {
        mappings.push({ template: id, slots: slots.length, slot, source: { kind: 'constant', value }, held: count, seen: values.total })
      }
    })
  }
  const templates: SharedModel['templates'] = []
  for (const id of used) {
    const t = parts.templates.get(id)
    if (t !== undefined) templates.push({ model: t.model, operation: t.operation, shape: t.shape, paths: [...t.paths], skeleton: encodeSkeleton(t.skeleton) })
  }
  return { version: 1, templates, transitions, mappings }
}

/** Adds what another process learned to this one's model (its counts as if observed here). */
export function mergeModel(parts: LearnedParts, shared: SharedModel): void {
  if (shared?.version !== 1 || !Array.isArray(shared.templates) || !Array.isArray(shared.transitions) || !Array.isArray(shared.mappings)) {
    throw new TypeError('prisma-prefetch: a shared model of an unknown format')
  }
  // The store is shared, so what it holds may be forged: only read operations become templates
  // (what is predicted is run, and must never be a write), and every number must be one this
  // process could have written (a slot count is its template's, which bounds what it allocates).
  for (const t of shared.templates) {
    if (typeof t?.shape === 'string' && typeof t.model === 'string' && isReadOperation(t.operation) && Array.isArray(t.paths)) parts.templates.adopt(t)
  }
  const known = (id: unknown) => typeof id === 'string' && parts.templates.get(id) !== undefined
  for (const { after, next, count } of shared.transitions) {
    if (Array.isArray(after) && after.every(known) && known(next) && Number.isFinite(count)) parts.global.add(after, next, count)
  }
  for (const { template, slots, slot, source, held, seen } of shared.mappings) {
    if (!known(template) || typeof source?.kind !== 'string' || ('template' in source && !known(source.template))) continue
    if (slots !== parts.templates.get(template)!.paths.length || !Number.isInteger(slot) || !Number.isFinite(held) || !Number.isFinite(seen)) continue
    parts.mappings.merge(template, slots, slot, source, held, seen)
  }
}

/** A learned constant as a person reads it in `model()` (its identity is `valueText`). */
function showConstant(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString()
  return typeof value === 'number' || typeof value === 'boolean' || value === null ? String(value) : valueText(value)
}
