/**
 * Public option types of prisma-prefetch: every option documented with its `@default`, the one
 * source that src/options.ts resolves and checks its defaults against.
 *
 * Every option is optional; defaults are resolved and validated once, when the extension is
 * applied with `$extends`. A bad value throws a `TypeError` that names the option and echoes it.
 */

import type { ModelName, Rule } from './client-types.ts'
import type { ReadOperation } from './shared.ts'

export type { ReadOperation } from './shared.ts'

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
 * callbacks rather than waiting for I/O) is sampled over a window, never per read. While it is
 * above `maxUtilization` no speculative read starts (queued ones are dropped, new candidates
 * skipped as `cpuBusy`); when a window at or below it follows, speculation resumes at the limit
 * it had (the one database pressure sets).
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

/**
 * Bounds and thresholds of learning. Memory held by learning is at most about `maxSessions` x
 * `maxHistory` x `maxRows` x 32 values for histories, plus `maxTemplates`, `maxContexts` x
 * `maxBranches` and `maxUsers` x `maxUserContexts` x `maxBranches` counters.
 */
export interface LearnOptions {
  /**
   * Longest context of the transition model: how many previous reads decide the next.
   * @default 2
   */
  order?: number
  /**
   * Observations a context needs before it predicts (else a shorter context is used), and a
   * source of an argument before it is used.
   * @default 5
   */
  minSupport?: number
  /**
   * Milliseconds between two reads of a session beyond which the second is not taken to follow
   * the first (the history starts afresh).
   * @default 30000
   */
  windowMs?: number
  /**
   * Observations of a context (or of an argument source) after which its counts are halved, so
   * that changed behaviour is followed within about this many observations.
   * @default 1000
   */
  agingLimit?: number
  /**
   * Sessions tracked at once; the least recently active is forgotten first.
   * @default 1000
   */
  maxSessions?: number
  /**
   * Reads kept per session (at least `order` and `lookback`).
   * @default 4
   */
  maxHistory?: number
  /**
   * Milliseconds after which an idle session is forgotten.
   * @default 1800000 (30 minutes)
   */
  sessionIdleMs?: number
  /**
   * Rows of a list result kept to learn from (and, at most, rows one fan-out fetches).
   * @default 50
   */
  maxRows?: number
  /**
   * Query templates remembered.
   * @default 1000
   */
  maxTemplates?: number
  /**
   * Contexts of the global transition model.
   * @default 10000
   */
  maxContexts?: number
  /**
   * Next templates counted per context (the rarest replaced).
   * @default 16
   */
  maxBranches?: number
  /**
   * Users with a transition model of their own (sessions started with a `userId`).
   * @default 1000
   */
  maxUsers?: number
  /**
   * Contexts of each user's transition model.
   * @default 256
   */
  maxUserContexts?: number
  /**
   * How many observations the global model counts for, next to a user's own: the more a user
   * has been seen, the more their own transitions decide.
   * @default 10
   */
  userPriorWeight?: number
  /**
   * How many reads back an argument's value is looked for.
   * @default 3
   */
  lookback?: number
  /**
   * Possible sources tracked per argument slot.
   * @default 8
   */
  maxSources?: number
  /**
   * Share of observations an argument source (or a remembered value) must have explained to
   * propose arguments. Each proposal carries that share in its probability, so sources that
   * explain different reads are all proposed, and `minProbability` decides what runs.
   * @default 0.1
   */
  minConfidence?: number
  /**
   * Rows fetched at most by one fan-out (a list followed by the detail of one of its rows): the
   * whole list a page showed, up to this many rows, in one batched `in` read. At most `maxRows`.
   * @default 50
   */
  maxFanOut?: number
  /**
   * Estimated bytes (in process memory) of the rows one fan-out keeps. Rows are kept in the
   * list's order while they fit; the rest are not kept. Once rows of a fan-out's shape have been
   * seen, later fan-outs of that shape fetch only as many rows as fit.
   * @default 1048576 (1 MiB)
   */
  maxFanOutBytes?: number
  /**
   * Transitions (a template after another) whose argument sources and values are learned apart
   * from the template's: one template reached from two pages may take its argument from a
   * different place after each. A transition seen fewer than `minSupport` times uses the template's.
   * @default 4000
   */
  maxArgumentContexts?: number
  /**
   * Concrete values remembered per argument slot (of a template, and of each transition to it),
   * the most frequent kept: proposed when no source explains the slot, or alongside a weak one.
   * @default 8
   */
  maxValues?: number
  /**
   * Reads proposed at most after one read, the most probable first (and argument combinations
   * at most per next template). More than `maxPerTrigger` never run.
   * @default 3
   */
  maxAlternatives?: number
  /**
   * Levels of prediction from one read: 1 predicts the reads that follow it; 2 also predicts, for
   * each of those that runs speculatively, the reads that follow it in turn (from its arguments
   * when it starts and from its result when it completes, with the probabilities multiplied), so
   * a page's later reads are ready when it is asked for; and so on.
   * @default 2
   */
  chainDepth?: number
  /**
   * Combining: when a single-row read goes to the database and a list read of a related model is
   * predicted, with at least this probability, to follow it with its foreign key taken from the
   * row (a user, then the user's posts by `authorId`), the list is loaded with the row as an added
   * relation in one statement (`relationLoadStrategy: 'join'`) and kept as that list read's
   * result; the application gets the row exactly as it asked for it. Only on clients where Prisma
   * runs relations as joins (the `relationJoins` preview feature on PostgreSQL, CockroachDB or
   * MySQL), never inside a transaction, and only for a list ordered by a unique field last.
   * `false`: never combine.
   * @default 0.8
   */
  combine?: number | false
  /**
   * With a shared `cache`: milliseconds between two writes of what this process learned to the
   * store (a new process reads what the others wrote when it starts).
   * @default 15000
   */
  shareIntervalMs?: number
  /**
   * Contexts of the global model written to the store at most (the best supported first).
   * @default 500
   */
  maxSharedContexts?: number
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
   * utilisation over a sample window is above `maxUtilization` (see `CpuOptions`). `true` for
   * the defaults, `false` never to sample.
   * @default { maxUtilization: 0.8, sampleMs: 200 }
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

/** Where OpenTelemetry data goes: a Meter and a Tracer of `@opentelemetry/api` (or alike). */
export interface TelemetryOptions {
  /** Counters and histograms are created on it. */
  meter?: MeterLike
  /** Speculative reads run in spans of it. */
  tracer?: TracerLike
}

/** The part of an OpenTelemetry `Meter` the extension uses (so the types need no `@opentelemetry/api`). */
export interface MeterLike {
  createCounter(name: string, options?: { description?: string; unit?: string }): { add(value: number, attributes?: Record<string, string>): void }
  createUpDownCounter(name: string, options?: { description?: string; unit?: string }): { add(value: number, attributes?: Record<string, string>): void }
  createHistogram(name: string, options?: { description?: string; unit?: string }): { record(value: number, attributes?: Record<string, string>): void }
}

/** The part of an OpenTelemetry `Tracer` the extension uses. */
export interface TracerLike {
  startActiveSpan<F extends (span: SpanLike) => unknown>(name: string, options: { attributes?: Record<string, string | boolean> }, fn: F): ReturnType<F>
}

/** The part of an OpenTelemetry `Span` the extension uses. */
export interface SpanLike {
  setStatus(status: { code: number; message?: string }): unknown
  end(): void
}
