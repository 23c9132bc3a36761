/**
 * The resolved form of the options (what the rest of the code reads), derived from the documented
 * interfaces of src/types.ts, and `DEFAULTS`, which the compiler checks against them.
 */

import type { Rule } from './client-types.ts'
import type { LearnSettings } from './strategies/learner.ts'
import type { ConcurrencyOptions, CpuOptions, L1Options, LearnOptions, ModelOptions, PrefetchOptions, ScopeContext, TelemetryOptions } from './types.ts'

/** Per-model settings with every default filled in. */
export type ResolvedModelOptions = Required<Omit<ModelOptions, 'operations'>> & { operations: ReadonlySet<string> }

/** Options with every default filled in; what the rest of the code reads. */
export type ResolvedOptions = Required<
  Pick<
    PrefetchOptions,
    'namespace' | 'ttl' | 'readThrough' | 'rowGenerations' | 'maxRowGenerations' | 'storeTimeout' | 'minProbability' | 'maxPerTrigger' | 'maxQueue' | 'queueTimeout' | 'shadow' | 'now' | 'onError'
  >
> &
  Pick<PrefetchOptions, 'cache' | 'targetPrecision'> & {
    /** `consistency`: undefined for strict. */
    maxStalenessMs: number | undefined
    l1: Required<L1Options> | false
    models: Map<string, ResolvedModelOptions>
    scope: (context: ScopeContext) => string
    /** Wall-clock milliseconds (`now`): timestamps, and entry times shared with other processes. */
    now: () => number
    /**
     * The clock in-process ages are measured by (entry ttl, maxStalenessMs, shadow entries):
     * performance.now(), which never steps back; the `now` option instead when one is given.
     */
    monotonic: () => number
    /** Undefined when learning is off. */
    learn: LearnSettings | undefined
    concurrency: Required<Omit<ConcurrencyOptions, 'connections'>> & Pick<ConcurrencyOptions, 'connections'>
    /** False when off. */
    cpu: Required<CpuOptions> | false
    rules: readonly Rule[]
    /** False when off. */
    telemetry: TelemetryOptions | false
  }

// Every option has its resolved form (`consistency` as maxStalenessMs): a new option that is
// declared but not resolved does not compile.
const everyOptionResolved: Exclude<keyof PrefetchOptions, keyof ResolvedOptions | 'consistency'> extends never ? true : never = true
void everyOptionResolved

/** The defaults of the options that have one, as documented with `@default` in src/types.ts. */
export const DEFAULTS = {
  namespace: 'prisma-prefetch',
  l1: { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 },
  ttl: 60_000,
  readThrough: true,
  rowGenerations: true,
  maxRowGenerations: 100_000,
  storeTimeout: 250,
  minProbability: 0.3,
  maxPerTrigger: 3,
  concurrency: { global: 8, perSession: 3, reserve: 1 },
  cpu: { maxUtilization: 0.8, sampleMs: 200, busyWindows: 3, learnEvery: 10, settledAfter: 100 },
  maxQueue: 1000,
  queueTimeout: 1000,
  shadow: false,
  learn: {
    order: 2,
    minSupport: 5,
    windowMs: 30_000,
    agingLimit: 1000,
    maxSessions: 1000,
    maxHistory: 4,
    sessionIdleMs: 30 * 60_000,
    maxRows: 50,
    maxTemplates: 1000,
    maxContexts: 10_000,
    maxBranches: 16,
    maxUsers: 1000,
    maxUserContexts: 256,
    userPriorWeight: 10,
    lookback: 3,
    maxRecall: 16,
    maxSources: 8,
    minConfidence: 0.1,
    maxFanOut: 50,
    maxFanOutBytes: 1024 * 1024,
    maxArgumentContexts: 4000,
    maxValues: 8,
    maxExactReads: 10_000,
    maxAlternatives: 3,
    chainDepth: 2,
    combine: 0.8 as number | false,
    shareIntervalMs: 15_000,
    maxSharedContexts: 500,
  },
} as const satisfies Required<
  Pick<
    PrefetchOptions,
    'namespace' | 'ttl' | 'readThrough' | 'rowGenerations' | 'maxRowGenerations' | 'storeTimeout' | 'minProbability' | 'maxPerTrigger' | 'maxQueue' | 'queueTimeout' | 'shadow'
  >
> & {
  l1: Required<L1Options>
  concurrency: Required<Omit<ConcurrencyOptions, 'connections'>>
  cpu: Required<CpuOptions>
  learn: Required<LearnOptions>
}
