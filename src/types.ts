/**
 * Public option types of prisma-prefetch: every option documented with its `@default`, the one
 * source that src/options.ts resolves and checks its defaults against.
 *
 * Every option is optional; defaults are resolved and validated once, when the extension is
 * applied with `$extends`. A bad value throws a `TypeError` that names the option and echoes it.
 */

import type { ModelName, Rule } from './client-types.ts'
import type { LearnOptions } from './learn-options.ts'
import type { ReadOperation } from './shared.ts'
import type { TelemetryOptions } from './telemetry-options.ts'

export type { LearnOptions } from './learn-options.ts'
export type { ReadOperation } from './shared.ts'
export type { MeterLike, SpanLike, TelemetryOptions, TracerLike } from './telemetry-options.ts'

/**
 * The part of a Keyv instance the extension uses. Any `Keyv` (in-memory, `@keyv/redis`, ...)
 * fits; values stored are strings produced by the extension's own codec.
 */
export interface KeyvLike {
  get(key: string): Promise<unknown>
  set(key: string, value: string, ttl?: number): Promise<unknown>
  delete(key: string): Promise<unknown>
  getMany?(keys: string[]): Promise<unknown[]>
  /** Keyv's 'error' events: Keyv and its adapters report many failures only this way. */
  on?(event: 'error', listener: (error: unknown) => void): unknown
  off?(event: 'error', listener: (error: unknown) => void): unknown
}

/** Limits on speculative reads in flight. */
export interface ConcurrencyOptions {
  /**
   * Over every session.
   * @default 8
   */
  global?: number
  /**
   * For one session (queued or running).
   * @default 3
   */
  perSession?: number
  /**
   * The size of the database client's connection pool (for `@prisma/adapter-pg`, its `max`,
   * 10 unless set). When given, a speculative read starts only while the queries in flight,
   * the application's and the speculative ones, leave at least `reserve` connections free, so
   * speculation never takes the connections the application's queries need.
   * @default none: no pool check (right for SQLite's single connection)
   */
  connections?: number
  /**
   * Connections kept free for the application's queries when `connections` is given.
   * @default 1
   */
  reserve?: number
}

/**
 * CPU-aware speculation: the event loop's utilisation (Node's
 * `performance.eventLoopUtilization()`, the share of wall-clock time the loop spent running
 * callbacks rather than waiting for I/O) is sampled over a window, never per read (every
 * `sampleMs` on a timer, and, should a loop kept busy by promises alone give the timer no turn,
 * by the reads themselves once `sampleMs` has passed). Once it has been above `maxUtilization`
 * for `busyWindows` windows in a row (sustained pressure, not a burst), no speculative read
 * starts (queued ones are dropped, new candidates skipped as `cpuBusy`); when a window at or
 * below it follows, speculation resumes at the limit it had (the one database pressure sets).
 */
export interface CpuOptions {
  /**
   * Utilisation (above 0, at most 1) above which speculation pauses.
   * @default 0.8
   */
  maxUtilization?: number
  /**
   * Milliseconds of one sample window (from 10 to 60000); the timer is unref'd and stopped by `close()`.
   * @default 200
   */
  sampleMs?: number
  /**
   * Windows in a row (from 1 to 100) above `maxUtilization` before speculation pauses: the
   * process must be the bottleneck for `busyWindows` x `sampleMs` (600 ms by default), not for
   * one burst (a single busy window among calm ones pauses nothing). A window the loop overran
   * (its timer ran late behind synchronous work) counts as the windows it lasted: a loop blocked
   * for 600 ms pauses at once. One window at or below `maxUtilization` resumes it. 1 pauses on
   * any busy window.
   * @default 3
   */
  busyWindows?: number
  /**
   * While the loop is busier than `maxUtilization`, learning backs off too: no learned
   * prediction is made (nothing could run), and only 1 session in `learnEvery` is shown to the
   * learner at all, the same sessions every time (a hash of the session id). The reads of the
   * other sessions skip the learner's whole path (template, history, learning, combining) and
   * cost what `learn: false` costs; such a session's history is dropped, so that its next read
   * observed starts a new one and nothing is learned or predicted across the reads it skipped.
   * Within a session shown to it, every read goes into the history (the arguments predicted once
   * the loop is calm again are the same as without the back-off), and an observation whose context
   * has settled (seen at least `settledAfter` times) is learned from 1 time in `learnEvery` (each
   * context counts its own). Whole sessions rather than reads: each session learned from is seen
   * whole, so the transitions it teaches are the ones it made. 1 observes every session and learns
   * from every observation. Counted in `prefetch.cpuBackoffReads` and `prefetch.cpuBackoffSampledOut`.
   * @default 10
   */
  learnEvery?: number
  /**
   * Observations of a context (its transition counts, aged as `learn.agingLimit` says) after
   * which the back-off may sample it (see `learnEvery`): one observation moves none of its shares
   * by more than 1 / `settledAfter`. Contexts seen less are learned from on every read.
   * @default 100
   */
  settledAfter?: number
}

/** Bounds of the in-process LRU that sits in front of the keyv store. */
export interface L1Options {
  /**
   * Most entries held in process memory.
   * @default 10000
   */
  maxEntries?: number
  /**
   * Most bytes held in process memory (estimated size of the cached results).
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number
}

/** Per-model settings. `false` turns caching off for the model (its writes still invalidate). */
export interface ModelOptions {
  /**
   * Milliseconds a cached result of this model may be served.
   * @default the top-level `ttl`
   */
  ttl?: number
  /**
   * Whether results of this model are cached at all.
   * @default true
   */
  cache?: boolean
  /**
   * Which read operations of this model are cached.
   * @default every read operation
   */
  operations?: ReadOperation[]
  /**
   * Whether reads of this model are run speculatively (predicted or by rules). Its reads are
   * still learned from, and still cached when they run.
   * @default true
   */
  prefetch?: boolean
}

/** What the extension passes to `onError` besides the error itself. */
export interface ErrorContext {
  /**
   * Where it happened: the store, decoding an entry, a generation bump, a speculative query;
   * 'store' is an error the store reported only as an 'error' event (Keyv does for its adapters');
   * 'session' is a bad session or user id given to `session()`/`forSession()` (the request then
   * ran outside any session).
   */
  phase: 'get' | 'set' | 'store' | 'decode' | 'generation' | 'key' | 'prefetch' | 'predict' | 'learning' | 'session'
  model?: string
  operation?: string
}

/** Where a query's scope comes from when `scope` is a function. */
export interface ScopeContext {
  model: string
  operation: string
  /** The session the query runs in, if any. */
  sessionId?: string
  userId?: string
}

/**
 * Options of `prefetch()`. Give your client's type, `prefetch<typeof prisma>({ ... })`, and model
 * names in `models` are checked against it as you type.
 */
export interface PrefetchOptions<Client = unknown> {
  /**
   * A Keyv store shared by every process that should see the same cache and invalidations
   * (for example Keyv with `@keyv/redis`). Cached results and model generations live there.
   * @default none: results and generations live in this process only
   */
  cache?: KeyvLike
  /**
   * What a hit checks when `cache` is shared. `'strict'`: the current generations of every model
   * the entry read, in one round trip to the store, so no process serves data older than a write
   * any process completed before the read began. `{ maxStalenessMs }`: generations read from the
   * store are reused for that long, so most hits need no round trip, and a write made in another
   * process is seen here at most that long after it completed (this process's own writes at once).
   * @default 'strict'
   */
  consistency?: 'strict' | { maxStalenessMs: number }
  /**
   * Prefix of every key the extension writes to `cache`, so that several applications can share
   * one Redis. Entries are partitioned further by a fingerprint of the client's schema and of its
   * result-shaping configuration (global `omit`, provider and adapter, Prisma version): clients
   * that differ in these never read each other's entries, but still share generations, so their
   * writes invalidate each other. Clients of different databases sharing a store need different
   * namespaces.
   * @default 'prisma-prefetch'
   */
  namespace?: string
  /**
   * Bounds of the in-process LRU in front of `cache`, or `false` to go to `cache` every time
   * (then `cache` is required).
   * @default { maxEntries: 10000, maxBytes: 67108864 }
   */
  l1?: L1Options | false
  /**
   * Milliseconds a cached result may be served, whatever else happens.
   * @default 60000
   */
  ttl?: number
  /**
   * Also cache the results of demand queries (not only prefetched ones).
   * @default true
   */
  readThrough?: boolean
  /**
   * Row generations (docs/invalidation.md): a `findUnique` by the value of a unique field depends
   * on that row, not on every row of its model, and a write that names its rows (by unique key,
   * or returns them) ends only the cached reads of those rows and the model's lists, counts and
   * aggregates. A write whose rows are not known (a filter, raw SQL, referential actions) ends
   * every read of the model, as with `false`, where every write ends every read of its models.
   * Every process sharing a store must run a version that knows row generations before any turns
   * them on (a process that does not know them never moves a row's generation).
   * @default true
   */
  rowGenerations?: boolean
  /**
   * Row generations held in process memory at most (counters without a shared store; rows whose
   * write has not reached the store yet, and tokens reused under `maxStalenessMs`, with one).
   * Forgetting a row's counter ends every cached row read of its model, never serves a stale one.
   * @default 100000
   */
  maxRowGenerations?: number
  /**
   * Milliseconds a call to the keyv store may take before the query falls back to the database.
   * @default 250
   */
  storeTimeout?: number
  /** Per-model settings, keyed by model name as in the schema (`User`, `Post`). */
  models?: Partial<Record<ModelName<Client>, false | ModelOptions>>
  /**
   * Learn from each session's reads and prefetch what they predict; `false` keeps only `rules`.
   * @default true, with the defaults of `LearnOptions`
   */
  learn?: boolean | LearnOptions
  /**
   * Candidates less likely than this are not run.
   * @default 0.3
   */
  minProbability?: number
  /**
   * Most speculative reads started after one read.
   * @default 3
   */
  maxPerTrigger?: number
  /**
   * Most speculative reads in flight at once: a number for the global limit, or both limits.
   * Under database pressure the global limit is lowered, and restored when it passes.
   * @default { global: 8, perSession: 3 }
   */
  concurrency?: number | ConcurrencyOptions
  /**
   * Pause speculation while the process itself is the bottleneck: while the event loop's
   * utilisation over a sample window is above `maxUtilization` (see `CpuOptions`), and learn
   * from settled contexts 1 observation in `learnEvery`. `true` for the defaults, `false` never
   * to sample.
   * @default { maxUtilization: 0.8, sampleMs: 200, learnEvery: 10, settledAfter: 100 }
   */
  cpu?: boolean | CpuOptions
  /**
   * Predict and score, execute nothing: every candidate that would run is counted as issued and
   * completed, and a later read of it as a prefetch hit and a use, so `precision` and `coverage`
   * say what prefetching would do. No speculative query reaches the database.
   * @default false
   */
  shadow?: boolean
  /**
   * Keep measured precision (used / completed speculative reads) near this by moving the
   * probability threshold up from `minProbability` when precision falls short, and back down
   * when it is comfortably above.
   * @default none: the threshold stays at `minProbability`
   */
  targetPrecision?: number
  /**
   * Most candidates waiting to run; beyond it new ones are skipped (`queueFull`).
   * @default 1000
   */
  maxQueue?: number
  /**
   * Milliseconds a candidate may wait to run; older ones are dropped (`prefetch.expired`).
   * @default 1000
   */
  queueTimeout?: number
  /** Transitions the application knows, made with `rule()`. */
  rules?: Rule[]
  /**
   * Partitions cached results, for example per tenant. A string, or a function called for
   * every read; results cached under one scope are never served under another.
   * @default '' (one partition)
   */
  scope?: string | ((context: ScopeContext) => string | undefined)
  /**
   * Called with every error the extension absorbed (store, codec, generations). User queries
   * never fail because of these; they fall back to the database.
   * @default none
   */
  onError?: (error: unknown, context: ErrorContext) => void
  /**
   * The clock, in milliseconds. Injectable for tests.
   *
   * Two clocks are at work. Wall-clock time (this one, `Date.now` by default) stamps what is
   * shared between processes: an entry in `cache` records when it was written, and another
   * process serves it only while its age by its own wall clock is from 0 to the entry's `ttl`
   * (an entry that seems written in the future, after a clock stepped back or on a machine
   * behind the writer's, is a miss). Ages within the process (an entry held in memory, a
   * generation reused under `maxStalenessMs`) are measured by `performance.now()`, which never
   * steps back. When `now` is given it drives both, so a test that moves it moves every age; an
   * age that comes out negative, after the injected clock went back, counts as expired.
   * @default Date.now (and performance.now() for ages within the process)
   */
  now?: () => number
  /**
   * OpenTelemetry metrics and traces (docs/telemetry.md). `true` takes the meter and tracer of
   * the global API (`@opentelemetry/api`, an optional peer: install it, and an SDK in your
   * application); `{ meter, tracer }` uses those given (either may be left out). Counters and
   * histograms, named `prisma_prefetch.*` with `model` and `strategy` attributes: reads, hits,
   * misses, on-time and late hits, prefetches issued, completed, failed, used and wasted, time
   * saved, time late hits waited, errors by kind. Each speculative read runs in a span
   * `prisma-prefetch speculative read` with the attribute `prisma_prefetch.speculative: true`, so
   * traces tell it from the application's queries (Prisma's own spans nest under it).
   * @default false
   */
  telemetry?: boolean | TelemetryOptions
}
