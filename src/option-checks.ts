/**
 * The checks of option values: each takes a value as given, throws a TypeError that names the
 * option and echoes the value if it is bad, and returns it resolved (defaults filled in).
 */

import type { Rule } from './client-types.ts'
import { DEFAULTS, type ResolvedModelOptions, type ResolvedOptions } from './option-defaults.ts'
import { isPlainObject, isReadOperation, READ_OPERATIONS } from './shared.ts'
import type { LearnSettings } from './strategies/learner.ts'
import { isRule } from './strategies/rules.ts'
import { globalTelemetry } from './telemetry.ts'
import type { KeyvLike, LearnOptions, ModelOptions, ScopeContext, TelemetryOptions } from './types.ts'

export function show(value: unknown): string {
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

export function fail(name: string, expectation: string, value: unknown): never {
  throw new TypeError(`prisma-prefetch: ${name} must be ${expectation}: ${show(value)}`)
}

export function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    fail(name, 'a positive integer', value)
  }
  return value
}

export function probability(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) fail(name, 'a number from 0 to 1', value)
  return value
}

export function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(name, 'a boolean', value)
  return value
}

export function getValidCache(value: unknown): KeyvLike | undefined {
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

export function getValidConsistency(value: unknown): number | undefined {
  if (value === undefined || value === 'strict') return undefined
  if (!isPlainObject(value) || Object.keys(value).some((key) => key !== 'maxStalenessMs')) {
    fail('consistency', "'strict' or { maxStalenessMs }", value)
  }
  return positiveInteger('consistency.maxStalenessMs', value.maxStalenessMs)
}

export function getValidNamespace(value: unknown): string {
  if (value === undefined) return DEFAULTS.namespace
  if (typeof value !== 'string' || !/^[\w.:-]{1,64}$/.test(value)) fail('namespace', 'a string of 1 to 64 letters, digits, _ . : -', value)
  return value
}

export function getValidL1(value: unknown): ResolvedOptions['l1'] {
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

export function getValidModels(value: unknown, ttl: number): Map<string, ResolvedModelOptions> {
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

export function getValidLearn(value: unknown): LearnSettings | undefined {
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

export function getValidConcurrency(value: unknown): ResolvedOptions['concurrency'] {
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

export function getValidCpu(value: unknown): ResolvedOptions['cpu'] {
  if (value === undefined || value === true) return { ...DEFAULTS.cpu }
  if (value === false) return false
  if (!isPlainObject(value)) fail('cpu', 'a boolean or an object { maxUtilization, sampleMs, busyWindows, learnEvery, settledAfter }', value)
  for (const key of Object.keys(value)) {
    if (!CPU_KEYS.includes(key)) fail(`cpu.${key}`, `one of ${CPU_KEYS.join(', ')} (unknown option)`, value[key])
  }
  const { maxUtilization, sampleMs, busyWindows, learnEvery, settledAfter } = value
  if (maxUtilization !== undefined && (typeof maxUtilization !== 'number' || !(maxUtilization > 0 && maxUtilization <= 1))) {
    fail('cpu.maxUtilization', 'a number above 0 and at most 1', maxUtilization)
  }
  if (sampleMs !== undefined && (typeof sampleMs !== 'number' || !Number.isSafeInteger(sampleMs) || sampleMs < 10 || sampleMs > 60_000)) {
    fail('cpu.sampleMs', 'an integer from 10 to 60000', sampleMs)
  }
  if (busyWindows !== undefined && (typeof busyWindows !== 'number' || !Number.isSafeInteger(busyWindows) || busyWindows < 1 || busyWindows > 100)) {
    fail('cpu.busyWindows', 'an integer from 1 to 100', busyWindows)
  }
  return {
    maxUtilization: maxUtilization ?? DEFAULTS.cpu.maxUtilization,
    sampleMs: sampleMs ?? DEFAULTS.cpu.sampleMs,
    busyWindows: busyWindows ?? DEFAULTS.cpu.busyWindows,
    learnEvery: learnEvery === undefined ? DEFAULTS.cpu.learnEvery : positiveInteger('cpu.learnEvery', learnEvery),
    settledAfter: settledAfter === undefined ? DEFAULTS.cpu.settledAfter : positiveInteger('cpu.settledAfter', settledAfter),
  }
}

const CPU_KEYS = ['maxUtilization', 'sampleMs', 'busyWindows', 'learnEvery', 'settledAfter']

export function getValidRules(value: unknown): readonly Rule[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) fail('rules', "an array of rule('Model.operation').then(...)", value)
  value.forEach((item, i) => {
    if (!isRule(item)) fail(`rules[${i}]`, "made by rule('Model.operation').then(...)", item)
  })
  return [...value]
}

/** A constant scope is a function of no parameter: QueryEntries then skips looking up the read's session. */
export function getValidScope(value: unknown): ResolvedOptions['scope'] {
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

export function getValidTelemetry(value: unknown): ResolvedOptions['telemetry'] {
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

export function getValidFunction<T>(name: string, value: unknown, fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value !== 'function') fail(name, 'a function', value)
  return value as T
}

/**
 * The clock, falling back to the system's when an injected one throws or returns no finite
 * number: a query must never fail because of it.
 */
export function steadyClock(clock: () => number): () => number {
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
