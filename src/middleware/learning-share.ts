/**
 * Shares what was learned, and the counters, between processes through the keyv store:
 * periodic snapshots written, and read when a process starts.
 */

import { randomBytes } from 'node:crypto'
import type { Codec } from '../cache/codec.ts'
import { guarded, stored } from '../cache/guard.ts'
import type { LearnedPredictor, SharedModel } from '../strategies/learner.ts'
import type { KeyvLike } from '../types.ts'
import type { PrefetchStats, TimelinePoint } from '../stats-types.ts'

/** Processes whose models are listed (the most recent publishers). */
const MAX_PUBLISHERS = 16

export interface LearningShareOptions {
  namespace: string
  intervalMs: number
  maxContexts: number
  timeoutMs: number
  reportError: (error: unknown) => void
  /** This process's counters, published beside its model for `prisma-prefetch report`. */
  stats?: () => PublishedStats
}

/** What a process publishes of its counters: plain JSON. */
export interface PublishedStats {
  stats: PrefetchStats
  timeline: TimelinePoint[]
}

/** The keys a namespace's shared learning lives under (the report command reads them too). */
export const learnedKeys = (namespace: string) => ({
  index: `${namespace}:learned:index`,
  model: (tag: string) => `${namespace}:learned:${tag}`,
  stats: (tag: string) => `${namespace}:stats:${tag}`,
})

/** The publisher tags an index lists, at most MAX_PUBLISHERS, whatever was written there. */
export function parseIndex(index: unknown): string[] {
  if (typeof index !== 'string') return []
  try {
    const tags = JSON.parse(index) as unknown
    // A forged index of thousands of tags must not make every reader read thousands of keys.
    return Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string' && /^[\w-]{1,32}$/.test(tag)).slice(0, MAX_PUBLISHERS) : []
  } catch {
    return []
  }
}

/**
 * Shares what was learned through the keyv store: every `intervalMs` this process writes a
 * bounded snapshot of its global model under a key of its own (with a TTL) and lists itself in
 * a short index of recent publishers; when it starts, it reads the models the index lists and
 * merges them into its own, so a new or restarted process predicts from the start. One write
 * per interval, never one per query; no key is ever listed or scanned; everything has a TTL.
 */
export class LearningShare {
  private readonly tag = randomBytes(6).toString('base64url')
  private timer: ReturnType<typeof setInterval> | undefined
  private publishing: Promise<void> | undefined
  /** Resolves when the models of other processes have been read (or could not be). */
  readonly loaded: Promise<void>

  constructor(
    private readonly store: KeyvLike,
    private readonly codec: Codec,
    private readonly learner: LearnedPredictor,
    private readonly options: LearningShareOptions,
  ) {
    this.keys = learnedKeys(options.namespace)
    this.loaded = this.load()
    this.timer = setInterval(() => void this.publish(), options.intervalMs)
    // Sharing must never keep a process alive.
    this.timer.unref?.()
  }

  private readonly keys: ReturnType<typeof learnedKeys>

  /** Keys live a few intervals: a process that stopped publishing drops out by itself. */
  private get ttl(): number {
    return Math.max(10 * 60_000, 3 * this.options.intervalMs)
  }

  private call<T>(fn: () => Promise<T>): Promise<T | undefined> {
    return guarded(fn, this.options.timeoutMs, this.options.reportError)
  }

  private async publishers(): Promise<string[]> {
    return parseIndex(await this.call(() => this.store.get(this.keys.index)))
  }

  private async load(): Promise<void> {
    const tags = (await this.publishers()).filter((tag) => tag !== this.tag)
    if (tags.length === 0) return
    const keys = tags.map((tag) => this.keys.model(tag))
    const texts = await this.call(() => (this.store.getMany ? this.store.getMany(keys) : Promise.all(keys.map((key) => this.store.get(key)))))
    for (const text of texts ?? []) {
      if (typeof text !== 'string') continue
      try {
        this.learner.merge(this.codec.decode(text) as SharedModel)
      } catch (error) {
        this.options.reportError(error)
      }
    }
  }

  /** Writes this process's model and lists it. */
  publish(): Promise<void> {
    this.publishing ??= (async () => {
      try {
        const text = this.codec.encode(this.learner.share(this.options.maxContexts))
        await this.call(() => stored(this.store.set(this.keys.model(this.tag), text, this.ttl)))
        if (this.options.stats) await this.call(() => stored(this.store.set(this.keys.stats(this.tag), JSON.stringify(this.options.stats!()), this.ttl)))
        const tags = [this.tag, ...(await this.publishers()).filter((tag) => tag !== this.tag)].slice(0, MAX_PUBLISHERS)
        await this.call(() => stored(this.store.set(this.keys.index, JSON.stringify(tags), this.ttl)))
      } catch (error) {
        this.options.reportError(error)
      } finally {
        this.publishing = undefined
      }
    })()
    return this.publishing
  }

  /** Stops publishing (after one last write of what was learned) and releases the timer. */
  async close(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.loaded
    // A publish in flight holds a snapshot taken when it began: the last write comes after it.
    await this.publishing
    await this.publish()
  }
}
