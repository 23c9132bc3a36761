import { AsyncLocalStorage } from 'node:async_hooks'
import { Prisma } from '@prisma/client/extension'
import { canonicalArgs } from '../src/canonical.ts'
import { READ_OPERATIONS } from '../src/shared.ts'

const READS = new Set<string>(READ_OPERATIONS)

export interface Query {
  model: string
  operation: string
  args: object
}

/**
 * Thresholds of the classic first-order prefetcher, as the web-prefetching literature sets them
 * (Padmanabhan and Mogul's dependency graph, 1996, and the Markov predictors after it): a
 * successor is prefetched when its conditional probability after the current request reaches a
 * threshold (0.25 here), once the transition itself has been seen at least `minSupport` times.
 * Exact queries recur far less often than pages, so the support must be one a run of this size
 * reaches: 2 (a transition seen once is a coincidence; seen twice, a pattern). The benchmark's
 * table shows what it issued per page.
 */
export const EXACT_MARKOV_THRESHOLDS = { minProbability: 0.25, minSupport: 2, maxPerTrigger: 3, maxQueries: 200_000 }

/**
 * The classic first-order prefetcher, as well as its idea allows: transitions between exact
 * queries (model, operation and every argument), counted per session; after each read, the
 * queries that followed it with at least `minProbability` (and `minSupport` times) are
 * prefetched, most likely first, at most `maxPerTrigger`. No templates, no argument mappings: a
 * query with arguments it has never seen cannot be predicted. Bounded by `maxQueries` distinct
 * queries (the oldest forgotten first).
 */
export class ExactMarkov {
  readonly sessions = new AsyncLocalStorage<string>()
  private readonly last = new Map<string, string>()
  private readonly queries = new Map<string, Query>()
  private readonly next = new Map<string, Map<string, number>>()

  constructor(
    private readonly warm: (query: Query) => Promise<void>,
    private readonly options = EXACT_MARKOV_THRESHOLDS,
  ) {}

  /** A query extension, applied before prefetch() so that it sees the demand reads only. */
  extension() {
    const observe = (query: Query) => this.observe(query)
    return Prisma.defineExtension({
      name: 'bench-exact-markov',
      query: {
        async $allOperations({ model, operation, args, query }) {
          const result = await query(args)
          if (model !== undefined && READS.has(operation)) observe({ model, operation, args: (args ?? {}) as object })
          return result
        },
      },
    })
  }

  observe(query: Query): void {
    const session = this.sessions.getStore()
    if (session === undefined) return
    const key = `${query.model}.${query.operation}|${canonicalArgs(query.args)}`
    this.remember(key, query)
    const previous = this.last.get(session)
    this.last.set(session, key)
    if (previous !== undefined) {
      const counts = this.next.get(previous) ?? new Map<string, number>()
      counts.set(key, (counts.get(key) ?? 0) + 1)
      this.next.set(previous, counts)
    }
    const counts = this.next.get(key)
    if (counts === undefined) return
    let total = 0
    for (const n of counts.values()) total += n
    // Support is the transition's own: a successor seen once after a query is a coincidence.
    const ranked = [...counts].filter(([, n]) => n >= this.options.minSupport && n / total >= this.options.minProbability).sort((a, b) => b[1] - a[1])
    for (const [candidate] of ranked.slice(0, this.options.maxPerTrigger)) {
      const predicted = this.queries.get(candidate)
      // Outside the session: the speculative read passes through this extension too, and must
      // not be observed as the session's next read (which would predict from predictions).
      if (predicted !== undefined) void this.sessions.exit(() => this.warm(predicted))
    }
  }

  endSession(session: string): void {
    this.last.delete(session)
  }

  private remember(key: string, query: Query): void {
    this.queries.delete(key)
    this.queries.set(key, query)
    if (this.queries.size <= this.options.maxQueries) return
    const oldest = this.queries.keys().next().value as string
    this.queries.delete(oldest)
    this.next.delete(oldest)
  }
}
