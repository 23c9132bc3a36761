/**
 * Public statistics types of prisma-prefetch: what `$prefetch.stats()` returns (a plain,
 * JSON-serialisable snapshot) and the points of the report's timeline.
 */

/** Counters kept overall and per model. */
export interface Counters {
  /** Read operations seen (cacheable or not, outside transactions). */
  reads: number
  /** Reads served from the cache (on-time and late prefetch hits included). */
  hits: number
  /** Reads that went to the database. */
  misses: number
  /**
   * On-time prefetch hits: reads served from a speculative result that was stored before the
   * read was asked. Only the first read each stored result serves in this process counts (a
   * later read of it would have been served by read-through caching anyway: a plain hit).
   */
  prefetchHits: number
  /**
   * Late hits: reads that joined a speculative query already in flight. They are hits, but they
   * still waited for the rest of that query.
   */
  lateHits: number
  /** Write operations seen (including raw queries). */
  writes: number
  /** Model generations bumped by writes and `invalidate()`. */
  invalidations: number
  /** Queries sent to the database through the extension, demand and speculative. */
  dbQueries: number
  /** Milliseconds reads did not wait thanks to speculative results (see `PrefetchStats.savedMs`). */
  savedMs: number
  /** The part of `savedMs` saved by late hits: how long their query had run before they joined it. */
  lateSavedMs: number
  /** Milliseconds late hits still waited, from joining a query in flight to its result. */
  lateWaitMs: number
}

/** Counters of one model, with their ratios. */
export interface ModelStats extends Counters {
  /** hits / reads */
  hitRate: number
  /** prefetchHits / reads (on-time prefetch hits only) */
  coverage: number
  /** lateHits / reads */
  lateCoverage: number
}

/**
 * Counters of one Prisma operation (`findUnique`, `findMany`, `update`, ...), over every model:
 * how its reads were answered, and how many writes it made (raw queries under their own name,
 * `$executeRaw`, ...). Each means what it means in `Counters`.
 */
export type OperationCounters = Pick<Counters, 'reads' | 'hits' | 'misses' | 'prefetchHits' | 'lateHits' | 'writes'>

/** Counters of one operation, with their ratios. */
export interface OperationStats extends OperationCounters {
  /** hits / reads */
  hitRate: number
  /** prefetchHits / reads (on-time prefetch hits only) */
  coverage: number
  /** lateHits / reads */
  lateCoverage: number
}

export interface PrefetchCounters {
  issued: number
  completed: number
  failed: number
  /** Speculative results that served at least one read. */
  used: number
  /** Speculative results that expired or were invalidated unused. */
  wasted: number
  /** Queued candidates that expired before they ran. */
  expired: number
  /**
   * Milliseconds speculation was paused because the event loop was busier than
   * `cpu.maxUtilization` (counted at each sample, so at most one sample window behind).
   */
  cpuBackoffMs: number
  /**
   * Reads completed while the event loop was busier than `cpu.maxUtilization`: no learned
   * prediction was made for any (nothing predicted could run).
   */
  cpuBackoffReads: number
  /**
   * Of those, the observations learning left out: every read of a session outside the 1 in
   * `cpu.learnEvery` shown to the learner while busy (it skipped the learner altogether), and, in
   * the sessions shown to it, the reads whose context had settled (`cpu.settledAfter`) beyond the
   * 1 in `cpu.learnEvery` counted into what is learned.
   */
  cpuBackoffSampledOut: number
  /**
   * Candidates not run, by reason: `cached`, `inFlight`, `queued`, `queueFull`, `sessionBusy`,
   * `modelOff`, `closed`, `cpuBusy` (dropped or not queued while the event loop was busier than
   * `cpu.maxUtilization`: queued ones, and rules' candidates; the learner proposes none then), `uncacheable`, `storeUnavailable`, `generationMoved`, `notCached`,
   * `tooLarge` (a fan-out not one row of whose shape fits in `learn.maxFanOutBytes`), and
   * `invalid` (arguments Prisma would refuse, such as a learned or ruled `findUnique` whose unique
   * key came out null or missing, a null or undefined in an `in` list, or an empty `in` list:
   * dropped before they are queued, never sent).
   */
  skipped: Record<string, number>
}

/** Speculative work of one strategy (`manual` for `$prefetch.warm()`). */
export interface StrategyCounters {
  issued: number
  completed: number
  failed: number
  /** Speculative results that served at least one read. */
  used: number
  /** Speculative results that expired or were invalidated unused. */
  wasted: number
  /** On-time prefetch hits its results served (as `Counters.prefetchHits`). */
  prefetchHits: number
  /** Reads that joined one of its queries in flight (as `Counters.lateHits`). */
  lateHits: number
  /** Milliseconds its results saved reads (as `PrefetchStats.savedMs`). */
  savedMs: number
}

/** Speculative work of one strategy, with its ratios. */
export interface StrategyStats extends StrategyCounters {
  /** used / completed */
  precision: number
  /** prefetchHits / every read (so the strategies' coverages add up to the total) */
  coverage: number
  /** lateHits / every read */
  lateCoverage: number
}

export interface ErrorCounters {
  /** Store calls that threw or rejected. */
  store: number
  /** Store calls that took longer than `storeTimeout`. */
  timeouts: number
  /**
   * Entries that could not be decoded (corrupt, foreign or of another format version) or that
   * the store returned for another key than the one they were stored under (each entry holds a
   * hash of its key). Each is a miss answered by the database.
   */
  decode: number
  /** Predictors or rules that threw (or a rule that returned something other than arguments). */
  predict: number
}

export interface PrefetchStats extends Counters {
  /** hits / reads */
  hitRate: number
  /** prefetch.used / prefetch.completed */
  precision: number
  /**
   * On-time coverage: prefetchHits / reads, the reads a speculative result served that was
   * stored before they were asked. Late hits are not in it (see `lateCoverage`).
   */
  coverage: number
  /** lateHits / reads: reads that joined a speculative query in flight and waited for its end. */
  lateCoverage: number
  /**
   * Of the time late hits would have waited for a query of their own (what their query had run
   * before they joined plus what they still waited), the share they did not wait:
   * lateSavedMs / (lateSavedMs + lateWaitMs); 0 without late hits.
   */
  lateSavedShare: number
  /**
   * Milliseconds reads did not wait thanks to speculative results, bounded so that it never
   * exceeds what those reads would really have waited:
   * - a late hit saves how long the query it joined had already run when it joined (it waits
   *   the rest itself, counted in `lateWaitMs`);
   * - an on-time hit saves the typical latency of a warm demand read of the same model and
   *   operation (the median of the latest 15 that went to the database; the first one of each
   *   kind is left out, as it also pays for connecting and planning the query), but never more
   *   than the speculative query that produced the result took itself, the very query the read
   *   would have waited for (a row a fan-out kept from a result already at hand, with no query of
   *   its own: the typical latency alone); nothing while no warm demand read of that kind was
   *   measured. Only the first read a stored result serves counts (the next would have been a
   *   read-through hit);
   * - in shadow mode nothing is saved: every read still goes to the database.
   * So a single query's result is never credited more than it took to run: in a script that
   * reads and warms one query at a time, savedMs stays below the script's own duration.
   */
  savedMs: number
  prefetch: PrefetchCounters
  errors: ErrorCounters
  /** What the in-process cache holds now (entries and estimated bytes). */
  l1: { entries: number; bytes: number }
  byModel: Record<string, ModelStats>
  byStrategy: Record<string, StrategyStats>
  /**
   * The read and write counters per operation, over every model: e.g.
   * `byOperation.findUnique.hitRate` is the hit rate of single-row reads by a unique key. An
   * operation appears once it has been seen.
   */
  byOperation: Record<string, OperationStats>
  /** The scheduler now: candidates queued and running, the speculative limit and probability threshold in force. */
  scheduler: { queued: number; inFlight: number; limit: number; threshold: number }
}

/** The counters at one moment (cumulative since start or resetStats()), for the report's timeline. */
export interface TimelinePoint {
  /** Milliseconds since the epoch (the `now` option's clock). */
  at: number
  reads: number
  hits: number
  misses: number
  /** On-time prefetch hits (reads served by a speculative result stored before they were asked). */
  prefetched: number
  /** Late hits (reads that joined a speculative query in flight). */
  late: number
  /** Speculative reads completed, and used. */
  completed: number
  used: number
}
