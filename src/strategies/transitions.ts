/**
 * Which template follows which: counts of the next template after each context (the ids of the
 * last one or more templates of a session), of every order up to `order`.
 *
 * Aging: when a context's total passes `agingLimit`, every count in it is halved, so old
 * behaviour weighs half as much each time and a change is followed within about `agingLimit`
 * observations of the context. Bounded: at most `maxContexts` contexts (the least recently
 * updated forgotten first) and `maxBranches` next templates per context (the rarest replaced).
 */

import { BoundedMap } from '../bounded-map.ts'
import { LOOP_DONE } from './history.ts'

/** The bounds and thresholds of one transition model. */
export interface TransitionBounds {
  order: number
  maxContexts: number
  maxBranches: number
  agingLimit: number
}

interface Context {
  total: number
  next: Map<string, number>
  /** Observations left out since the last one recorded, while sampled (see `sampledOut`). */
  skipped?: number
}

/** A distribution over next templates, and how much evidence it rests on. */
export interface NextTemplates {
  /** The context order it came from (the longest with enough support). */
  order: number
  support: number
  probabilities: Map<string, number>
}

/** The separator of template ids in a context key; ids are base-36 and never contain it. */
const SEP = '>'

export class TransitionModel {
  private readonly contexts: BoundedMap<string, Context>

  constructor(private readonly bounds: TransitionBounds) {
    this.contexts = new BoundedMap(bounds.maxContexts)
  }

  get size(): number {
    return this.contexts.size
  }

  /** Counts `next` after each context ending with the last id of `previous` (oldest first). */
  record(previous: readonly string[], next: string): void {
    const longest = Math.min(this.bounds.order, previous.length)
    for (let order = 1; order <= longest; order++) {
      this.bump(previous.slice(previous.length - order).join(SEP), next)
    }
  }

  /**
   * Under CPU pressure: whether this observation after `previous` is left out, the context
   * `record` would count it in at its longest order having settled (at least `settledAfter`
   * observations); of the observations of a settled context, 1 in `every` is not left out
   * (counted per context, so contexts read in a fixed rotation are each sampled alike).
   */
  sampledOut(previous: readonly string[], settledAfter: number, every: number): boolean {
    if (every <= 1 || previous.length === 0) return false
    const order = Math.min(this.bounds.order, previous.length)
    const context = this.contexts.get(previous.slice(previous.length - order).join(SEP))
    if (context === undefined || context.total < settledAfter) return false
    const skipped = (context.skipped ?? 0) + 1
    if (skipped >= every) {
      context.skipped = 0
      return false
    }
    context.skipped = skipped
    return true
  }

  /**
   * The next templates after `previous`, from the longest context with at least `minSupport`
   * observations, backing off to shorter ones; undefined when none has enough. A context marked
   * as after a loop's last row that none of its orders has seen enough backs off to the same
   * context unmarked: the mark is a refinement (a value that happened to match a list's last row
   * makes one), and what follows the read itself is known better than nothing, but for the same
   * read again (another row of the loop, if the mark was right).
   */
  predict(previous: readonly string[], minSupport: number): NextTemplates | undefined {
    const found = this.predictFrom(previous, minSupport)
    if (found !== undefined || previous.length === 0) return found
    const last = previous[previous.length - 1]
    if (!last.endsWith(LOOP_DONE)) return undefined
    const read = last.slice(0, -LOOP_DONE.length)
    const unmarked = this.predictFrom([...previous.slice(0, -1), read], minSupport)
    // Unless the mark is right: after a loop's last row, another row of it does not follow.
    unmarked?.probabilities.delete(read)
    return unmarked
  }

  private predictFrom(previous: readonly string[], minSupport: number): NextTemplates | undefined {
    for (let order = Math.min(this.bounds.order, previous.length); order >= 1; order--) {
      const context = this.contexts.get(previous.slice(previous.length - order).join(SEP))
      if (context === undefined || context.total < minSupport) continue
      const probabilities = new Map<string, number>()
      for (const [id, count] of context.next) probabilities.set(id, count / context.total)
      return { order, support: context.total, probabilities }
    }
    return undefined
  }

  /** Every context with its counts, for reports. */
  *entries(): IterableIterator<{ context: string[]; total: number; next: ReadonlyMap<string, number> }> {
    for (const [key, context] of this.contexts) yield { context: key.split(SEP), total: context.total, next: context.next }
  }

  /** Adds `count` observations of `next` after the context `context` (merging another model). */
  add(context: readonly string[], next: string, count: number): void {
    if (context.length === 0 || context.length > this.bounds.order || !(count > 0)) return
    this.bump(context.join(SEP), next, count)
  }

  private bump(key: string, next: string, weight = 1): void {
    const context = this.contexts.get(key) ?? { total: 0, next: new Map() }
    this.contexts.remember(key, context)
    const count = context.next.get(next)
    if (count === undefined && context.next.size >= this.bounds.maxBranches) this.dropRarest(context)
    context.next.set(next, (count ?? 0) + weight)
    context.total += weight
    if (context.total > this.bounds.agingLimit) {
      context.total = 0
      for (const [id, n] of context.next) {
        const halved = n / 2
        if (halved < 0.5) context.next.delete(id)
        else {
          context.next.set(id, halved)
          context.total += halved
        }
      }
    }
  }

  private dropRarest(context: Context): void {
    let rarest: string | undefined
    let least = Infinity
    for (const [id, n] of context.next) {
      if (n < least) {
        least = n
        rarest = id
      }
    }
    context.next.delete(rarest!)
    context.total -= least
  }
}

/**
 * Blends a user's own next-template distribution with the global one, as a Dirichlet prior: the
 * global distribution counts as `priorWeight` observations, the user's as its support. A new user
 * gets the global prediction; a regular one mostly their own.
 */
export function blend(global: NextTemplates | undefined, user: NextTemplates | undefined, priorWeight: number): NextTemplates | undefined {
  if (user === undefined) return global
  if (global === undefined) return user
  const w = user.support / (user.support + priorWeight)
  const probabilities = new Map<string, number>()
  for (const [id, p] of global.probabilities) probabilities.set(id, (1 - w) * p)
  for (const [id, p] of user.probabilities) probabilities.set(id, (probabilities.get(id) ?? 0) + w * p)
  return { order: Math.max(global.order, user.order), support: global.support + user.support, probabilities }
}
