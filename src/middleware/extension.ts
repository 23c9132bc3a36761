/**
 * The `$extends` glue: `prefetch(options)` validates the options, builds the serving core
 * (QueryRouter), the prefetcher and the learning share for each client, subscribes the prefetcher
 * to the read path's signals, and adds the `$prefetch` helpers.
 */

import { writeFileSync } from 'node:fs'
import { Prisma } from '@prisma/client/extension'
import { checkModelNames, resolveOptions } from '../options.ts'
import { renderReport } from '../report/html.ts'
import { Stats } from '../stats.ts'
import { isReadOperation, READ_OPERATIONS } from '../shared.ts'
import type { PrefetchOptions, ReadOperation } from '../types.ts'
import type { PrefetchStats } from '../stats-types.ts'
import { recordMetrics, tracedSpeculation } from '../telemetry.ts'
import { LearningShare } from './learning-share.ts'
import { Prefetcher, type PrefetchModel } from './prefetcher.ts'
import { QueryRouter, type OperationParams } from './router.ts'
import { resultFingerprint } from './fingerprint.ts'
import { Combiner, joinsRelations } from './combining.ts'
import { describeSchema } from './schema.ts'
import { Composition } from './composition.ts'
import type { UtilizationSource } from './cpu-pressure.ts'
import { sessionContext, Sessions, type SessionId } from './session.ts'
import { sentAs } from './speculation.ts'

/** Transitions a report draws from at most. */
const MAX_REPORT_TRANSITIONS = 200

/** Prisma's own default timeout of interactive transactions. */
const PRISMA_ITX_TIMEOUT_MS = 5000

/** The user of a session; `null` or `undefined` (a request without a user) is none. */
export interface SessionOptions {
  userId?: SessionId | null
}

/**
 * What `$prefetch.forSession(id)` returns without a type argument: no model is reachable on it,
 * and the compiler's message says what to write instead (it used to be `any`, which hid mistakes).
 */
export interface ForSessionNeedsTheClientType {
  'prisma-prefetch: name the client type, prisma.$prefetch.forSession<typeof prisma>(id), or call prisma.$forSession(id)': never
}

/**
 * `prisma.$forSession(id, { userId })`: the same client as `prisma.$prefetch.forSession`, typed
 * after the client it is called on (with every extension applied after prefetch()).
 */
export type ForSession = <Client>(this: Client, sessionId: SessionId, options?: SessionOptions) => Client

/** The helpers added to the extended client as `$prefetch`. */
export interface PrefetchHelpers {
  /**
   * Runs `fn` as session `sessionId`: every query it makes (awaited inside it) belongs to the
   * session. Ids may be strings, numbers or bigints (7 and '7' are the same); a bad one is
   * reported to `onError` (phase 'session') and `fn` runs outside any session.
   */
  session<T>(sessionId: SessionId, fn: () => T, options?: SessionOptions): T
  /**
   * The client it is called on, every query of which (lazy, batched in `$transaction([...])` or in
   * an interactive transaction) belongs to session `sessionId`; extensions applied after
   * prefetch() are kept. Its type cannot be seen from here (`$prefetch` is not the client): name
   * it, `prisma.$prefetch.forSession<typeof prisma>(id)`, or call `prisma.$forSession(id)`, whose
   * type is inferred. Ids as for `session()`; with a bad one (reported to `onError`) the client
   * itself is returned, outside any session.
   */
  forSession<Client = ForSessionNeedsTheClientType>(sessionId: SessionId, options?: SessionOptions): Client
  /** A snapshot of the counters (a plain, JSON-serialisable object). */
  stats(): PrefetchStats
  resetStats(): void
  /**
   * What was learned, as plain data a person can read: the best supported transitions between
   * query shapes (at most `limit`, default 20) with their probabilities and where each argument
   * comes from, and the rules given.
   */
  model(options?: { limit?: number }): PrefetchModel
  /**
   * Runs one read now, speculatively (beneath this extension), and keeps its result for the same
   * read made next, which is then served from the cache or joins it while it runs. Skipped when
   * the result is cached or in flight already. Resolves when done; a database error is counted
   * and reported to `onError`, never thrown. Bad input rejects with a TypeError.
   */
  warm(query: { model: string; operation: ReadOperation; args?: object }): Promise<void>
  /**
   * One self-contained HTML page of what was learned (the transition graph, with where each
   * argument comes from), hit rate, coverage and precision over time, and a table per model.
   * Returned, and written to `file` when given.
   */
  report(options?: { file?: string; title?: string }): string
  /** Resolves when no background work is queued or running. */
  idle(): Promise<void>
  /** Stops serving cached results of `model` (or of every model) everywhere the store is shared. */
  invalidate(model?: string): Promise<void>
  /** Stops caching, waits for background work and releases every timer. */
  close(): Promise<void>
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function'
}

/**
 * Calls `fn` and starts the Prisma promise it returns, if it returns one: a Prisma promise runs
 * only when awaited, so it is started here, inside the session, in case `fn` returned it without
 * awaiting it itself. A native promise (an async `fn`) runs already and is returned as it is; a
 * Prisma promise is started by its own `then`, which returns a native promise of its outcome;
 * any other thenable is adopted by a new promise. (A function of its own, not a closure per
 * `session()` call: this runs on every request.)
 */
function startNow<T>(fn: () => T): T {
  const result = fn()
  if (result instanceof Promise || !isThenable(result)) return result
  if ((result as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'PrismaPromise') return result.then() as unknown as T
  return new Promise((resolve, reject) => result.then(resolve, reject)) as unknown as T
}

/**
 * The prisma-prefetch client extension: `prisma.$extends(prefetch(options))`.
 *
 * Options are validated here, and model names against the client when `$extends` runs; a bad
 * value throws a TypeError naming it.
 */
export function prefetch<Client = unknown>(options?: PrefetchOptions<Client>) {
  return prefetchWith(options as PrefetchOptions, {})
}

/** Parts of the extension tests replace (never exported by the package). */
export interface Internals {
  /** The event loop's utilisation, read every `cpu.sampleMs`. */
  utilization?: UtilizationSource
}

/** `prefetch()` with `internals` in place of Node's own signals. */
export function prefetchWith(options: PrefetchOptions | undefined, internals: Internals) {
  const resolved = resolveOptions(options)
  return Prisma.defineExtension((client) => {
    const schema = describeSchema(client)
    checkModelNames(resolved, schema.models)
    const stats = new Stats(resolved.now)
    // OpenTelemetry (optional): metrics subscribe to the counters; speculative reads get a span.
    const stopMetrics = resolved.telemetry && resolved.telemetry.meter ? recordMetrics(stats, resolved.telemetry.meter) : undefined
    const traced = resolved.telemetry && resolved.telemetry.tracer ? tracedSpeculation(resolved.telemetry.tracer) : undefined
    const sessions = new Sessions()
    const configuredTimeout = (client as { _engineConfig?: { transactionOptions?: { timeout?: unknown } } })._engineConfig
      ?.transactionOptions?.timeout
    // Set below, once the extension object exists (the composition needs it to find itself).
    let composition!: Composition
    const cache = new QueryRouter({
      options: resolved,
      schema,
      stats,
      sessions,
      transactionTimeoutMs: typeof configuredTimeout === 'number' && configuredTimeout > 0 ? configuredTimeout : PRISMA_ITX_TIMEOUT_MS,
      fingerprint: resultFingerprint(client),
      rowsShared: () => composition.hooksBeneath().operationBlind(),
    })
    // Speculative reads go through the query hooks beneath this extension's (see Composition).
    const send = (model: string, operation: string, args: unknown) =>
      composition.execute(model, sentAs(schema.uniqueSelectors.get(model), operation, args, composition.hooksBeneath().operationBlind()), args)
    const execute = (model: string, operation: string, args: unknown) => (traced ? traced(model, operation, () => send(model, operation, args)) : send(model, operation, args))
    const prefetcher = new Prefetcher(resolved, {
      speculator: cache.speculator,
      latency: cache.latency,
      demand: cache.demand,
      rowsShared: cache.entries.rowsShared,
      sessions,
      stats,
      execute,
      reportError: cache.reportError,
      schema,
      utilization: internals.utilization,
    })
    // With a shared store, what was learned is shared too (periodic snapshots, read at start).
    const share =
      resolved.cache && prefetcher.learner && resolved.learn
        ? new LearningShare(resolved.cache, cache.entries.codec, prefetcher.learner, {
            namespace: resolved.namespace,
            intervalMs: resolved.learn.shareIntervalMs,
            maxContexts: resolved.learn.maxSharedContexts,
            timeoutMs: resolved.storeTimeout,
            reportError: (error) => cache.reportError(error, { phase: 'learning' }),
            stats: () => ({ stats: helpers.stats(), timeline: stats.timeline() }),
          })
        : undefined
    if (prefetcher.learner !== undefined && resolved.learn !== undefined && resolved.learn.combine !== false && !resolved.shadow) {
      cache.reads.combineWith(
        new Combiner(joinsRelations(client), resolved.learn.combine, prefetcher.learner, sessions, schema, cache.entries, stats, cache.usage, cache.reportError, resolved.now, (model) =>
          resolved.models.get(model)?.prefetch !== false, (model, operation) => composition.hooksBeneath().runFor(model, operation), () => prefetcher.observesNow()),
      )
    }
    if (prefetcher.active) {
      cache.reads.completed.subscribe((read) => prefetcher.observe(read))
      cache.reads.started.subscribe((read) => prefetcher.anticipate(read))
      cache.pressure.subscribe(() => prefetcher.pressure())
    }

    const reportSession = (error: unknown) => cache.reportError(error, { phase: 'session' })

    const helpers: PrefetchHelpers = {
      session(sessionId, fn, sessionOptions) {
        const context = sessionContext('session', sessionId, sessionOptions, reportSession)
        // A bad session id costs the session, never the request: fn then runs outside any.
        return context === undefined ? sessions.within(undefined, startNow, fn) : sessions.run(context, startNow, fn)
      },
      forSession(sessionId, sessionOptions) {
        return helpersOn(composition.current(), helpers).forSession(sessionId, sessionOptions)
      },
      stats: () =>
        stats.snapshot(cache.entries.results.localSize(), {
          queued: prefetcher.scheduler.queued,
          inFlight: prefetcher.scheduler.inFlight,
          limit: prefetcher.scheduler.limit,
          threshold: prefetcher.threshold,
        }),
      resetStats: () => stats.reset(),
      model(modelOptions) {
        const limit = modelOptions?.limit ?? 20
        if (!Number.isSafeInteger(limit) || limit <= 0) throw new TypeError(`prisma-prefetch: model() limit must be a positive integer: ${String(limit)}`)
        return prefetcher.describe(limit)
      },
      report(reportOptions) {
        const { file, title } = reportOptions ?? {}
        if (file !== undefined && (typeof file !== 'string' || file === '')) throw new TypeError(`prisma-prefetch: report() file must be a path: ${String(file)}`)
        if (title !== undefined && typeof title !== 'string') throw new TypeError(`prisma-prefetch: report() title must be a string: ${String(title)}`)
        const html = renderReport({
          title,
          generatedAt: new Date(resolved.now()).toISOString(),
          model: prefetcher.describe(MAX_REPORT_TRANSITIONS),
          stats: helpers.stats(),
          timeline: stats.timeline(),
        })
        if (file !== undefined) writeFileSync(file, html)
        return html
      },
      warm(query) {
        return helpersOn(composition.current(), helpers).warm(query)
      },
      async idle() {
        await share?.loaded
        await prefetcher.idle()
        await cache.idle()
      },
      invalidate: (model) => cache.writes.invalidate(model),
      async close() {
        await share?.close()
        await prefetcher.close()
        await cache.close()
        stopMetrics?.()
      },
    }

    /** The helpers of one client: forSession() and warm() go through that very client. */
    const helpersOn = (target: unknown, base: PrefetchHelpers): PrefetchHelpers => ({
      ...base,
      forSession(sessionId, sessionOptions) {
        const context = sessionContext('forSession', sessionId, sessionOptions, reportSession)
        // A bad session id costs the session, never the request: the client itself then.
        return (context === undefined ? target : composition.forSession(target, context)) as never
      },
      async warm(query) {
        const { model, operation, args } = (query ?? {}) as { model?: unknown; operation?: unknown; args?: unknown }
        if (typeof model !== 'string' || !schema.models.includes(model)) {
          throw new TypeError(`prisma-prefetch: warm() needs a model of this client (${schema.models.join(', ')}): ${JSON.stringify(model)}`)
        }
        if (!isReadOperation(operation)) {
          throw new TypeError(`prisma-prefetch: warm() needs a read operation (${READ_OPERATIONS.join(', ')}): ${JSON.stringify(operation)}`)
        }
        if (args !== undefined && (args === null || typeof args !== 'object')) {
          throw new TypeError(`prisma-prefetch: warm() args must be an object: ${String(args)}`)
        }
        // Through the whole client: the extensions applied before this one see (and may rewrite)
        // the read as they would the application's, and it is kept at this extension's level.
        let reached: boolean
        try {
          reached = await composition.warm(target, model, operation as string, args ?? {})
        } catch (error) {
          cache.reportError(error, { phase: 'prefetch', model, operation: operation as string })
          return
        }
        if (!reached) stats.skip('notReached')
      },
    })

    // What a warm() pass does once it reaches this extension; made once, not on every query.
    const warmManual = (operation: OperationParams, args: unknown, query: () => PromiseLike<unknown>) =>
      cache.speculator.warmAt(operation.model!, operation.operation, args, query, 'manual')
    const definition = {
      name: 'prisma-prefetch',
      query: {
        $allOperations(params: unknown) {
          const operation = params as OperationParams
          return composition.intercept(operation, warmManual) ?? cache.handle(operation)
        },
      },
      client: {
        $prefetch: helpers,
        // Prisma calls a client member on the client it was read from: `this` is that client.
        $forSession: function (this: unknown, sessionId: SessionId, sessionOptions?: SessionOptions) {
          return helpersOn(this ?? composition.current(), helpers).forSession(sessionId, sessionOptions)
        } as ForSession,
      },
    }
    // `$transaction` through this extension, so that what a transaction wrote settles when it
    // ends rather than at its timeout. Added outside the literal: its type stays Prisma's own.
    const transaction = (client as { $transaction: (...args: unknown[]) => Promise<unknown> }).$transaction
    Object.assign(definition.client, {
      // Prisma's own method, run on the client it was called on (whose extensions the
      // transaction's client keeps), inside the router's bookkeeping.
      $transaction: function (this: unknown, ...args: unknown[]) {
        return cache.transaction(() => transaction.apply(this ?? composition.current(), args))
      },
    })
    composition = new Composition(client as never, definition, sessions, (c) => helpersOn(c, helpers))
    return composition.adopt(client.$extends(definition))
  })
}
