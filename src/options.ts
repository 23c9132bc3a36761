/**
 * Options: validated once when the extension is built, every default filled in. The documented
 * interfaces of src/types.ts are the one source; the resolved types and `DEFAULTS`
 * (option-defaults.ts) are derived from them and the checks of each value are in option-checks.ts;
 * here the compiler checks the list of option names against them, and the options are resolved.
 */

import {
  boolean,
  fail,
  getValidCache,
  getValidConcurrency,
  getValidConsistency,
  getValidCpu,
  getValidFunction,
  getValidL1,
  getValidLearn,
  getValidModels,
  getValidNamespace,
  getValidRules,
  getValidScope,
  getValidTelemetry,
  positiveInteger,
  probability,
  steadyClock,
} from './option-checks.ts'
import { DEFAULTS, type ResolvedOptions } from './option-defaults.ts'
import { isPlainObject, isReadOperation, READ_OPERATIONS } from './shared.ts'
import type { PrefetchOptions } from './types.ts'

export { DEFAULTS, type ResolvedModelOptions, type ResolvedOptions } from './option-defaults.ts'

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
