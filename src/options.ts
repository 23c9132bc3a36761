/**
 * Options: validated once when the extension is built, every default filled in. The documented
 * interfaces of src/types.ts are the one source; the resolved types below are derived from them,
 * and the compiler checks `DEFAULTS` and the list of option names against them.
 */

import type { Rule } from './client-types.ts'
import { isPlainObject, isReadOperation, READ_OPERATIONS } from './shared.ts'
import type { LearnSettings } from './strategies/learner.ts'
import { isRule } from './strategies/rules.ts'
import { globalTelemetry } from './telemetry.ts'
import type { ConcurrencyOptions, CpuOptions, KeyvLike, L1Options, LearnOptions, ModelOptions, PrefetchOptions, ScopeContext, TelemetryOptions } from './types.ts'

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
  cpu: { maxUtilization: 0.8, sampleMs: 200 },
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
    maxSources: 8,
    minConfidence: 0.1,
    maxFanOut: 50,
    maxFanOutBytes: 1024 * 1024,
    maxArgumentContexts: 4000,
    maxValues: 8,
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

/** Every top-level option name, checked against `PrefetchOptions` both ways (README tables are checked against it). */
const OPTION_NAMES = {
  cache: true,
  consistency: true,
  namespace: true,
  l1: true,
  ttl: true,
  readThrough: true,
  rowGenerations: true,
  maxRowGenerations: true,
  storeTimeout: true,
  models: true,
  scope: true,
  onError: true,
  now: true,
  learn: true,
  minProbability: true,
  maxPerTrigger: true,
  concurrency: true,
  cpu: true,
  maxQueue: true,
  queueTimeout: true,
  targetPrecision: true,
  shadow: true,
  rules: true,
  telemetry: true,
} as const satisfies Record<keyof PrefetchOptions, true>

export const KNOWN_OPTIONS: ReadonlySet<string> = new Set(Object.keys(OPTION_NAMES))

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`
  if (value === null || typeof value !== 'object') return String(value)
  try {
    const text = JSON.stringify(value)
    return text.length > 80 ? `${text.slice(0, 77)}...` : text
  } catch {
    return Object.prototype.toString.call(value)
  }
}

function fail(name: string, expectation: string, value: unknown): never {
  throw new TypeError(`prisma-prefetch: ${name} must be ${expectation}: ${show(value)}`)
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    fail(name, 'a positive integer', value)
  }
  return value
}

function probability(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) fail(name, 'a number from 0 to 1', value)
  return value
}

function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(name, 'a boolean', value)
  return value
}

function getValidCache(value: unknown): KeyvLike | undefined {
  if (value === undefined) return undefined
  const store = value as Record<string, unknown>
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof store.get !== 'function' ||
    typeof store.set !== 'function' ||
    typeof store.delete !== 'function'
  ) {
    fail('cache', 'a Keyv instance (an object with get, set and delete methods)', value)
  }
  return value as KeyvLike
}

function getValidConsistency(value: unknown): number | undefined {
  if (value === undefined || value === 'strict') return undefined
  if (!isPlainObject(value) || Object.keys(value).some((key) => key !== 'maxStalenessMs')) {
    fail('consistency', "'strict' or { maxStalenessMs }", value)
  }
  return positiveInteger('consistency.maxStalenessMs', value.maxStalenessMs)
}

function getValidNamespace(value: unknown): string {
  if (value === undefined) return DEFAULTS.namespace
  if (typeof value !== 'string' || !/^[\w.:-]{1,64}$/.test(value)) fail('namespace', 'a string of 1 to 64 letters, digits, _ . : -', value)
  return value
}

function getValidL1(value: unknown): ResolvedOptions['l1'] {
  if (value === undefined) return { ...DEFAULTS.l1 }
  if (value === false) return false
  if (!isPlainObject(value)) fail('l1', 'false or an object { maxEntries, maxBytes }', value)
  for (const key of Object.keys(value)) {
    if (key !== 'maxEntries' && key !== 'maxBytes') fail(`l1.${key}`, 'one of maxEntries, maxBytes (unknown option)', value[key])
  }
  return {
    maxEntries: value.maxEntries === undefined ? DEFAULTS.l1.maxEntries : positiveInteger('l1.maxEntries', value.maxEntries),
    maxBytes: value.maxBytes === undefined ? DEFAULTS.l1.maxBytes : positiveInteger('l1.maxBytes', value.maxBytes),
  }
}

function getValidModels(value: unknown, ttl: number): Map<string, ResolvedModelOptions> {
  const models = new Map<string, ResolvedModelOptions>()
  if (value === undefined) return models
  if (!isPlainObject(value)) fail('models', 'an object keyed by model name', value)
  for (const [model, setting] of Object.entries(value)) {
    const name = `models.${model}`
    if (setting === false) {
      models.set(model, { cache: false, ttl, operations: new Set(), prefetch: false })
      continue
    }
    if (!isPlainObject(setting)) fail(name, 'false or an object { ttl, cache, operations, prefetch }', setting)
    const options = setting as ModelOptions
    for (const key of Object.keys(options)) {
      if (key !== 'ttl' && key !== 'cache' && key !== 'operations' && key !== 'prefetch') {
        fail(`${name}.${key}`, 'one of ttl, cache, operations, prefetch (unknown option)', (options as Record<string, unknown>)[key])
      }
    }
    let operations: ReadonlySet<string> = new Set(READ_OPERATIONS)
    if (options.operations !== undefined) {
      if (!Array.isArray(options.operations) || options.operations.some((op) => !isReadOperation(op))) {
        fail(`${name}.operations`, `an array of read operations (${READ_OPERATIONS.join(', ')})`, options.operations)
      }
      operations = new Set(options.operations)
    }
    models.set(model, {
      cache: options.cache === undefined ? true : boolean(`${name}.cache`, options.cache),
      ttl: options.ttl === undefined ? ttl : positiveInteger(`${name}.ttl`, options.ttl),
      operations,
      prefetch: options.prefetch === undefined ? true : boolean(`${name}.prefetch`, options.prefetch),
    })
  }
  return models
}

const LEARN_PROBABILITIES = new Set(['minConfidence'])
const LEARN_NUMBERS = new Set(['userPriorWeight'])

function getValidLearn(value: unknown): LearnSettings | undefined {
  if (value === undefined || value === true) return { ...DEFAULTS.learn }
  if (value === false) return undefined
  if (!isPlainObject(value)) fail('learn', 'a boolean or an object of learning options', value)
  const settings: LearnSettings = { ...DEFAULTS.learn }
  for (const [key, option] of Object.entries(value as LearnOptions)) {
    const name = `learn.${key}`
    // Own keys only: `in` would take inherited names (constructor, toString, __proto__) for options.
    if (!Object.hasOwn(DEFAULTS.learn, key)) fail(name, `one of ${Object.keys(DEFAULTS.learn).join(', ')} (unknown option)`, option)
    if (option === undefined) continue
    if (key === 'combine') settings.combine = option === false ? false : probability(name, option)
    else if (LEARN_PROBABILITIES.has(key)) settings[key as keyof LearnSettings] = probability(name, option)
    else if (LEARN_NUMBERS.has(key)) {
      if (typeof option !== 'number' || !Number.isFinite(option) || option < 0) fail(name, 'a number of at least 0', option)
      settings[key as keyof LearnSettings] = option
    } else settings[key as keyof LearnSettings] = positiveInteger(name, option)
  }
  if (settings.maxHistory < settings.order) fail('learn.maxHistory', `at least learn.order (${settings.order})`, settings.maxHistory)
  if (settings.maxHistory < settings.lookback) fail('learn.maxHistory', `at least learn.lookback (${settings.lookback})`, settings.maxHistory)
  if (settings.maxFanOut > settings.maxRows) fail('learn.maxFanOut', `at most learn.maxRows (${settings.maxRows})`, settings.maxFanOut)
  return settings
}

function getValidConcurrency(value: unknown): ResolvedOptions['concurrency'] {
  if (value === undefined) return { ...DEFAULTS.concurrency }
  if (typeof value === 'number') {
    return { ...DEFAULTS.concurrency, global: positiveInteger('concurrency', value), perSession: Math.min(value, DEFAULTS.concurrency.perSession) }
  }
  if (!isPlainObject(value)) fail('concurrency', 'a positive integer or an object { global, perSession, connections, reserve }', value)
  const known = ['global', 'perSession', 'connections', 'reserve']
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(`concurrency.${key}`, `one of ${known.join(', ')} (unknown option)`, value[key])
  }
  const global = value.global === undefined ? DEFAULTS.concurrency.global : positiveInteger('concurrency.global', value.global)
  const perSession = value.perSession === undefined ? Math.min(global, DEFAULTS.concurrency.perSession) : positiveInteger('concurrency.perSession', value.perSession)
  const reserve = value.reserve === undefined ? DEFAULTS.concurrency.reserve : positiveInteger('concurrency.reserve', value.reserve)
  if (value.connections === undefined) return { global, perSession, reserve }
  const connections = positiveInteger('concurrency.connections', value.connections)
  if (connections <= reserve) fail('concurrency.connections', `more than concurrency.reserve (${reserve})`, connections)
  return { global, perSession, connections, reserve }
}

function getValidCpu(value: unknown): ResolvedOptions['cpu'] {
  if (value === undefined || value === true) return { ...DEFAULTS.cpu }
  if (value === false) return false
  if (!isPlainObject(value)) fail('cpu', 'a boolean or an object { maxUtilization, sampleMs }', value)
  for (const key of Object.keys(value)) {
    if (key !== 'maxUtilization' && key !== 'sampleMs') fail(`cpu.${key}`, 'one of maxUtilization, sampleMs (unknown option)', value[key])
  }
  const { maxUtilization, sampleMs } = value
  if (maxUtilization !== undefined && (typeof maxUtilization !== 'number' || !(maxUtilization > 0 && maxUtilization <= 1))) {
    fail('cpu.maxUtilization', 'a number above 0 and at most 1', maxUtilization)
  }
  if (sampleMs !== undefined && (typeof sampleMs !== 'number' || !Number.isSafeInteger(sampleMs) || sampleMs < 10 || sampleMs > 60_000)) {
    fail('cpu.sampleMs', 'an integer from 10 to 60000', sampleMs)
  }
  return { maxUtilization: maxUtilization ?? DEFAULTS.cpu.maxUtilization, sampleMs: sampleMs ?? DEFAULTS.cpu.sampleMs }
}

function getValidRules(value: unknown): readonly Rule[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) fail('rules', "an array of rule('Model.operation').then(...)", value)
  value.forEach((item, i) => {
    if (!isRule(item)) fail(`rules[${i}]`, "made by rule('Model.operation').then(...)", item)
  })
  return [...value]
}

function getValidScope(value: unknown): ResolvedOptions['scope'] {
  if (value === undefined) return () => ''
  if (typeof value === 'string') return () => value
  if (typeof value !== 'function') fail('scope', 'a string or a function returning one', value)
  const scopeOf = value as (context: ScopeContext) => string | undefined
  return (context) => {
    const scope = scopeOf(context)
    if (scope === undefined) return ''
    if (typeof scope !== 'string') fail('scope()', 'a string or undefined', scope)
    return scope
  }
}

const METER_METHODS = ['createCounter', 'createUpDownCounter', 'createHistogram'] as const

function getValidTelemetry(value: unknown): ResolvedOptions['telemetry'] {
  if (value === undefined || value === false) return false
  if (value === true) return globalTelemetry()
  const expected = 'true, false or { meter?, tracer? } with at least one of them'
  if (!isPlainObject(value)) fail('telemetry', expected, value)
  for (const key of Object.keys(value)) if (key !== 'meter' && key !== 'tracer') fail(`telemetry.${key}`, 'a known option (meter, tracer)', value[key])
  const { meter, tracer } = value
  if (meter === undefined && tracer === undefined) fail('telemetry', expected, value)
  // Class instances (an SDK's Meter and Tracer are), checked by the methods the extension calls.
  const has = (object: unknown, method: string) => object !== null && typeof object === 'object' && typeof (object as Record<string, unknown>)[method] === 'function'
  if (meter !== undefined && !METER_METHODS.every((method) => has(meter, method))) {
    fail('telemetry.meter', `an OpenTelemetry Meter (with ${METER_METHODS.join(', ')})`, meter)
  }
  if (tracer !== undefined && !has(tracer, 'startActiveSpan')) fail('telemetry.tracer', 'an OpenTelemetry Tracer (with startActiveSpan)', tracer)
  return { meter, tracer } as TelemetryOptions
}

function getValidFunction<T>(name: string, value: unknown, fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value !== 'function') fail(name, 'a function', value)
  return value as T
}

/**
 * The clock, falling back to the system's when an injected one throws or returns no finite
 * number: a query must never fail because of it.
 */
function steadyClock(clock: () => number): () => number {
  if (clock === Date.now) return clock
  return () => {
    try {
      const time = clock()
      return Number.isFinite(time) ? time : Date.now()
    } catch {
      return Date.now()
    }
  }
}

/** Validates `options` once and fills in every default. Throws a TypeError naming a bad option. */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) options = {}
  if (!isPlainObject(options)) fail('options', 'an object', options)
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) fail(key, `a known option (${[...KNOWN_OPTIONS].join(', ')})`, options[key])
  }
  const o = options as PrefetchOptions
  const cache = getValidCache(o.cache)
  const l1 = getValidL1(o.l1)
  if (l1 === false && cache === undefined) fail('l1', 'enabled when no cache store is given', o.l1)
  const ttl = o.ttl === undefined ? DEFAULTS.ttl : positiveInteger('ttl', o.ttl)
  const maxStalenessMs = getValidConsistency(o.consistency)
  if (maxStalenessMs !== undefined && cache === undefined) fail('consistency', "'strict' when no cache store is given (one process is always strict)", o.consistency)
  const injectedNow = getValidFunction<(() => number) | undefined>('now', o.now, undefined)
  const now = steadyClock(injectedNow ?? Date.now)
  return {
    cache,
    maxStalenessMs,
    namespace: getValidNamespace(o.namespace),
    l1,
    ttl,
    readThrough: o.readThrough === undefined ? DEFAULTS.readThrough : boolean('readThrough', o.readThrough),
    rowGenerations: o.rowGenerations === undefined ? DEFAULTS.rowGenerations : boolean('rowGenerations', o.rowGenerations),
    maxRowGenerations: o.maxRowGenerations === undefined ? DEFAULTS.maxRowGenerations : positiveInteger('maxRowGenerations', o.maxRowGenerations),
    storeTimeout: o.storeTimeout === undefined ? DEFAULTS.storeTimeout : positiveInteger('storeTimeout', o.storeTimeout),
    models: getValidModels(o.models, ttl),
    scope: getValidScope(o.scope),
    onError: getValidFunction('onError', o.onError, () => {}),
    now,
    // An injected clock drives ages too, so that a test moving it moves every age with it.
    monotonic: injectedNow === undefined ? () => performance.now() : now,
    learn: getValidLearn(o.learn),
    minProbability: o.minProbability === undefined ? DEFAULTS.minProbability : probability('minProbability', o.minProbability),
    maxPerTrigger: o.maxPerTrigger === undefined ? DEFAULTS.maxPerTrigger : positiveInteger('maxPerTrigger', o.maxPerTrigger),
    concurrency: getValidConcurrency(o.concurrency),
    cpu: getValidCpu(o.cpu),
    maxQueue: o.maxQueue === undefined ? DEFAULTS.maxQueue : positiveInteger('maxQueue', o.maxQueue),
    queueTimeout: o.queueTimeout === undefined ? DEFAULTS.queueTimeout : positiveInteger('queueTimeout', o.queueTimeout),
    targetPrecision: o.targetPrecision === undefined ? undefined : probability('targetPrecision', o.targetPrecision),
    shadow: o.shadow === undefined ? DEFAULTS.shadow : boolean('shadow', o.shadow),
    rules: getValidRules(o.rules),
    telemetry: getValidTelemetry(o.telemetry),
  }
}

/** Checks model names in `models` and `rules` against the client's models (when the extension is applied). */
export function checkModelNames(resolved: ResolvedOptions, clientModels: readonly string[]): void {
  const known = `the name of a model of this client (${clientModels.join(', ')})`
  for (const model of resolved.models.keys()) {
    if (!clientModels.includes(model)) fail(`models.${model}`, known, model)
  }
  resolved.rules.forEach((r, i) => {
    const name = `rules[${i}] (${r.from.model}.${r.from.operation} -> ${r.to.model}.${r.to.operation})`
    for (const end of [r.from, r.to]) {
      if (!clientModels.includes(end.model)) fail(name, known, end.model)
      if (!isReadOperation(end.operation)) fail(name, `between read operations (${READ_OPERATIONS.join(', ')})`, end.operation)
    }
  })
}
