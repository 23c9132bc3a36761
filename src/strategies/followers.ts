/**
 * The exact-read memory: which whole reads (template and every slot value) followed a whole read,
 * counted, so a read that recurs after the same read (in a session, or across sessions) is named
 * even where no argument source explains it and its slots' values are too spread to rank.
 */

import { BoundedMap } from '../bounded-map.ts'
import { valueText } from '../canonical.ts'
import { fetches } from './combine.ts'
import { rarestKey } from './evidence.ts'
import { MAX_CONSTANT_TEXT } from './sources.ts'
import type { Duel, DuelRecord } from './steps.ts'
import type { Query } from './types.ts'

/** The bounds of the memory. */
export interface FollowerBounds {
  /** Exact reads whose followers are remembered (the least recently followed forgotten first). */
  maxExactReads: number
  /** Followers remembered per exact read (the rarest replaced by a new one). */
  maxValues: number
  /** Halve a read's counts when their total passes this. */
  agingLimit: number
}

/** A read that followed, with how often. */
export interface Follower {
  template: string
  values: unknown[]
  count: number
}

interface Followers {
  total: number
  next: Map<string, Follower>
}

/** The key of a whole read (template id and slot values), or undefined for one too long to keep. */
export function exactKey(template: string, values: readonly unknown[]): string | undefined {
  if (values.length === 0) return template
  const text = valueText(values)
  return text.length <= MAX_CONSTANT_TEXT ? `${template}=${text}` : undefined
}

/**
 * The probability of a follower seen `count` times of `total` (0 under MIN_FOLLOWER_COUNT), by
 * Laplace's rule: two observations more than seen, so a follower seen twice of twice (0.5) does not outrank a source
 * that held 60% of 500 times, and one seen always approaches certainty as it recurs.
 */
export function followerProbability(count: number, total: number): number {
  return total > 0 && count >= MIN_FOLLOWER_COUNT ? count / (total + 2) : 0
}

/** Times a follower must have been seen to be proposed (once is a coincidence as often as not). */
export const MIN_FOLLOWER_COUNT = 2

export class FollowerMemory {
  private readonly reads: BoundedMap<string, Followers>

  constructor(private readonly bounds: FollowerBounds) {
    this.reads = new BoundedMap(bounds.maxExactReads)
  }

  get size(): number {
    return this.reads.size
  }

  /** Counts the read `next` (its key, template and values) after the read keyed `previous`. */
  learn(previous: string, key: string, template: string, values: readonly unknown[]): void {
    const followers = this.reads.get(previous) ?? { total: 0, next: new Map<string, Follower>() }
    this.reads.remember(previous, followers)
    followers.total++
    const known = followers.next.get(key)
    if (known !== undefined) known.count++
    else {
      if (followers.next.size >= this.bounds.maxValues) {
        const rarest = rarestKey(followers.next)
        followers.next.delete(rarest!)
      }
      followers.next.set(key, { template, values: [...values], count: 1 })
    }
    if (followers.total > this.bounds.agingLimit) {
      followers.total /= 2
      for (const [k, entry] of followers.next) {
        entry.count /= 2
        if (entry.count < 0.5) followers.next.delete(k)
      }
    }
  }

  /** What followed the read keyed `previous` (each by its key), and of how many observations. */
  followers(previous: string): { total: number; next: ReadonlyMap<string, Follower> } | undefined {
    return this.reads.get(previous)
  }

  /** The most followers any read has (for tests of the bounds). */
  widest(): number {
    let most = 0
    for (const { next } of this.reads.values()) most = Math.max(most, next.size)
    return most
  }
}

/**
 * Which was right more often when they disagreed, per transition: the whole-read memory or the
 * derivation from transitions and argument sources. A derived candidate's probability is its
 * template's share after the context times its arguments' confidence, both averaged over every
 * read of the template; a read of one item that has bids is followed by the read of them every
 * time, one that has none never, and the memory of each read knows which it is where the average
 * does not. Bounded by `maxTransitions` records, the least recently disputed forgotten first.
 */
export class DuelRecords {
  private readonly records: BoundedMap<string, DuelRecord>

  constructor(
    maxTransitions: number,
    private readonly agingLimit: number,
  ) {
    this.records = new BoundedMap(maxTransitions)
  }

  get size(): number {
    return this.records.size
  }

  /** The record of the memory's followers of template `next` after a read of template `read` (a new one if none). */
  of(read: string, next: string): DuelRecord {
    const key = read + '>' + next
    let record = this.records.touch(key)
    if (record === undefined) this.records.remember(key, (record = { duels: 0, exact: 0, derived: 0 }))
    return record
  }

  /** Counts how `duel` ended: the session's next read was `query`, keyed `key`. */
  settle(duel: Duel, key: string | undefined, query: Query): void {
    const record = duel.record
    record.duels++
    const derived = duel.derived
    if (key === duel.exact) record.exact++
    else if (typeof derived === 'string' ? key === derived : fetches(derived, query)) record.derived++
    if (record.duels > this.agingLimit) {
      record.duels /= 2
      record.exact /= 2
      record.derived /= 2
    }
  }
}

/** Whether the memory's follower has been right more often than the derived candidate, of at least `minSupport` disagreements settled by either. */
export function exactWins(record: DuelRecord, minSupport: number): boolean {
  return record.exact > record.derived && record.exact + record.derived >= minSupport
}
