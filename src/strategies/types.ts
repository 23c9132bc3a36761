/**
 * The plain descriptors the strategies work on. Nothing here knows Prisma: a query is a model
 * name, an operation name and its arguments, and a read that completed also carries its result.
 */

/** One query, as the application would send it. */
export interface Query {
  model: string
  operation: string
  args: Record<string, unknown>
}

/** A read that completed, with what it returned. */
export interface ObservedQuery extends Query {
  result?: unknown
}

/** The user session a read belongs to. */
export interface SessionRef {
  sessionId: string
  userId?: string
}

/** What a predictor is shown after each read. */
export interface ReadEvent {
  /** Undefined when the read ran outside any session (only rules apply then). */
  session: SessionRef | undefined
  query: ObservedQuery
  /** When the read completed, in milliseconds of the extension's clock. */
  at: number
  /**
   * Candidates less probable than this are dropped after ranking (`Ranking.minProbability`): a
   * predictor may leave them out, and save building their arguments. 0 when absent.
   */
  minProbability?: number
  /**
   * Present while the process is the bottleneck (nothing predicted could run): a predictor then
   * predicts nothing it would have to work for, and may learn from an observation whose context
   * has settled (`settledAfter` observations) 1 time in `learnEvery`, calling `sampledOut()` for
   * each it leaves out. What the next predictions need (the session's history) is kept as ever.
   */
  backoff?: Backoff
}

/** Learning under CPU pressure (see `ReadEvent.backoff`). */
export interface Backoff {
  learnEvery: number
  settledAfter: number
  sampledOut(): void
}

/**
 * A fan-out: the predicted query is one batched `findMany` whose rows are each kept as the result
 * of their own `findUnique`, so whichever of them the user opens next is served from the cache.
 */
export interface FanOut {
  /** The operation each row answers (`findUnique` or `findUniqueOrThrow`). */
  operation: string
  /** The unique field the rows are matched on. */
  field: string
  /** The arguments of the single-row read that `value` answers. */
  argsFor(value: unknown): Record<string, unknown>
  /** The batch selects `field` only to match rows: remove it from each row before keeping it. */
  strip: boolean
  /** The values to fetch, in order. */
  values: unknown[]
  /**
   * Whether the session is expected to read its rows one after another (a loop over the list, as
   * an N+1), rather than one of them: what follows one row is then as likely as the fan-out
   * itself, not a share of it. Absent: one of them.
   */
  loop?: boolean
  /**
   * When the read just observed already returned these rows in the very shape the single-row
   * reads ask for, no query is needed: the rows are kept as they are.
   */
  rows?: readonly Record<string, unknown>[]
}

/** A query worth running before it is asked for. */
export interface Candidate {
  query: Query
  /** Estimated probability that the session's next read is this query (or one of its rows). */
  probability: number
  /** Which strategy proposed it (`transitions`, `fanOut`, `rule`). */
  strategy: string
  fanOut?: FanOut
}

/** A source of candidates. Implementations must be fast, deterministic and bounded. */
export interface Predictor {
  readonly name: string
  /** Learns from a completed read and returns the reads likely to follow it, in any order. */
  observe(event: ReadEvent): Candidate[]
  /**
   * For a read that has only started (`event.query.result` unknown): the reads likely to follow
   * it whose arguments are known already, so they can run alongside it. Learns nothing.
   */
  anticipate?(event: ReadEvent): Candidate[]
  /**
   * For reads the session has not made but is expected to make (speculative reads, oldest
   * first, each with its result once known): the reads likely to follow them, as if they were
   * the session's latest reads. With the last one's result unknown, only reads whose every
   * argument is known already. Learns nothing.
   */
  follow?(session: SessionRef | undefined, chain: readonly ObservedQuery[], at: number, minProbability?: number): Candidate[]
}
